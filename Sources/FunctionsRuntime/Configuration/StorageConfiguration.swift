import Foundation
import MemoryCore

/// Where memories are stored, from `MEMORY_STORAGE` + `MEMORY_CONTAINER`.
///
/// - a folder path (default `./.memory`): the embedded file backend, container = sub-folder;
/// - an Azure Storage connection string (`DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…`,
///   `UseDevelopmentStorage=true`, or one with `BlobEndpoint=` / `SharedAccessSignature=`);
/// - an account URL (`https://acct.blob.core.windows.net`): Azure with managed identity.
public enum StorageConfiguration: Sendable, Equatable {
    case folder(path: String, container: String)
    case azureConnectionString(String, container: String)
    case azureAccountURL(URL, container: String)

    public static let defaultFolder = "./.memory"
    public static let defaultContainer = "memories"

    public init(storage: String?, container: String?) throws(ConfigurationError) {
        let container = (container?.isEmpty == false ? container! : Self.defaultContainer)
        guard Self.isValidContainer(container) else {
            throw ConfigurationError(setting: "MEMORY_CONTAINER",
                problem: "'\(container.prefix(70))' must be 3-63 characters of lower-case letters, digits and single hyphens (an Azure container name)")
        }
        let raw = (storage ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if raw.isEmpty {
            self = .folder(path: Self.defaultFolder, container: container)
        } else if raw.contains("AccountName=") || raw.contains("UseDevelopmentStorage=") || raw.contains("BlobEndpoint=") {
            self = .azureConnectionString(raw, container: container)
        } else if raw.hasPrefix("https://") || raw.hasPrefix("http://") {
            guard let url = URL(string: raw), url.host != nil else {
                throw ConfigurationError(setting: "MEMORY_STORAGE",
                    problem: "'\(raw.prefix(100))' is not a valid account URL (expected https://ACCOUNT.blob.core.windows.net)")
            }
            self = .azureAccountURL(url, container: container)
        } else {
            self = .folder(path: raw, container: container)
        }
    }

    /// A description safe for logs (never the account key or SAS).
    public var redacted: String {
        switch self {
        case .folder(let path, let container): "folder \(path) container \(container)"
        case .azureConnectionString(_, let container): "azure (connection string) container \(container)"
        case .azureAccountURL(let url, let container): "azure \(url.absoluteString) (managed identity) container \(container)"
        }
    }

    /// The location the memory service opens (``MemoryService/open(storage:readOnly:garbageGracePeriod:embedder:chat:options:logger:)``):
    /// a folder's container is its sub-folder.
    public var location: StorageLocation {
        switch self {
        case .folder(let path, let container):
            .folder(URL(fileURLWithPath: path).appendingPathComponent(container, isDirectory: true), durable: true)
        case .azureConnectionString(let setting, let container):
            .azure(setting: setting, container: container)
        case .azureAccountURL(let url, let container):
            .azure(setting: url.absoluteString, container: container)
        }
    }

    static func isValidContainer(_ s: String) -> Bool {
        guard (3...63).contains(s.count), !s.hasPrefix("-"), !s.hasSuffix("-"), !s.contains("--") else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
