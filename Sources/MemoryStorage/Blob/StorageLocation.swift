import Foundation
import Logging

/// Where a blob store lives, and the one way to build one. Two spellings reach it:
///
/// - the handlers' settings, `MEMORY_STORAGE` + `MEMORY_CONTAINER` (parsed by FunctionsRuntime's
///   `StorageConfiguration`): a folder path names the parent of the container's folder, so the container is its
///   sub-folder; a connection string or account URL names Azure;
/// - one string, as `memory-tool --storage` and tests pass it (``init(parsing:environment:)``): a folder path
///   (`/some/folder`, `./folder`, `file:/some/folder`) names the container's folder itself; `file-nosync:` the
///   same without fsync (tests only: power loss could lose acknowledged writes); `azure:[container@]<setting>`
///   where `<setting>` is anything `MEMORY_STORAGE` accepts and the container defaults to `MEMORY_CONTAINER`,
///   else `memories` (DESIGN.md §8).
///
/// So a handler with `MEMORY_STORAGE=/data` and the default container keeps its blobs where
/// `memory-tool --storage /data/memories` looks.
public enum StorageLocation: Sendable, Equatable {
    /// The container's folder, for ``FileBlobStore``.
    case folder(URL, durable: Bool)
    /// Azure Blob Storage: a connection string or account URL, and the container.
    case azure(setting: String, container: String)

    public static let azureScheme = "azure:"
    /// The container when neither the location nor `MEMORY_CONTAINER` names one (DESIGN.md §8).
    public static let defaultContainer = "memories"

    /// A location string nothing here reads.
    public struct UnsupportedError: Error, Sendable, Equatable, CustomStringConvertible {
        public var location: String
        public var description: String {
            "unsupported storage location '\(location)': use a folder path, file:/path, file-nosync:/path or "
                + "azure:[container@]<connection string or account URL>"
        }
    }

    /// Parses the one-string spelling (see the type's comment).
    public init(parsing location: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(UnsupportedError) {
        if location.hasPrefix(Self.azureScheme) {
            var rest = Substring(location).dropFirst(Self.azureScheme.count)
            var container = environment["MEMORY_CONTAINER"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultContainer
            // A container prefix is whatever precedes an `@` that comes before any `=` or `:` of the setting.
            if let at = rest.firstIndex(of: "@"), !rest[..<at].contains("="), !rest[..<at].contains(":") {
                container = String(rest[..<at])
                rest = rest[rest.index(after: at)...]
            }
            self = .azure(setting: String(rest), container: container)
        } else if location.hasPrefix("file-nosync:") {
            self = .folder(URL(fileURLWithPath: Self.folder(location.dropFirst("file-nosync:".count))), durable: false)
        } else if location.hasPrefix("file:") {
            self = .folder(URL(fileURLWithPath: Self.folder(location.dropFirst("file:".count))), durable: true)
        } else if location.hasPrefix("/") || location.hasPrefix(".") {
            self = .folder(URL(fileURLWithPath: location), durable: true)
        } else {
            throw UnsupportedError(location: location)
        }
    }

    /// Builds the store. Makes no request and creates nothing.
    /// - Throws: ``AzureSettingsError`` when an Azure setting or container is unusable.
    public func makeStore(
        logger: Logger = Logger(label: "memory.storage.azure") { StreamLogHandler.standardError(label: $0) },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any BlobStore {
        switch self {
        case .folder(let root, let durable):
            return FileBlobStore(root: root, durable: durable)
        case .azure(let setting, let container):
            return try AzureBlobStore.make(setting: setting, container: container, logger: logger, environment: environment)
        }
    }

    private static func folder(_ s: Substring) -> String {
        s.hasPrefix("//") ? String(s.dropFirst(2)) : String(s)
    }
}
