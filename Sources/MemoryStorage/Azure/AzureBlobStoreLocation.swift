import Foundation
import Logging

/// The `azure:` storage location of ``BlobStoreLocation`` (as `memory-tool --storage` and tests pass it):
/// `azure:[<container>@]<setting>`, where `<setting>` is anything `MEMORY_STORAGE` accepts (a connection string or
/// an account URL). Without `<container>@`, the container is `MEMORY_CONTAINER` or `memories` (DESIGN.md §8).
///
/// Examples: `azure:memory@UseDevelopmentStorage=true`,
/// `azure:memory@DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1`.
public enum AzureBlobStoreLocation {
    public static let scheme = "azure:"
    /// The container when neither the location nor `MEMORY_CONTAINER` names one (DESIGN.md §8).
    public static let defaultContainer = "memories"

    /// Builds the store for `location` (with or without the `azure:` prefix). Makes no request.
    /// - Throws: ``AzureSettingsError`` when the setting or container is unusable.
    public static func open(_ location: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AzureBlobStore {
        var rest = Substring(location)
        if rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        var container = environment["MEMORY_CONTAINER"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultContainer
        // A container prefix is whatever precedes an `@` that comes before any `=` or `:` of the setting.
        if let at = rest.firstIndex(of: "@"), !rest[..<at].contains("="), !rest[..<at].contains(":") {
            container = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        // Logs go to stderr: tools keep stdout for machine-readable output.
        let logger = Logger(label: "memory.storage.azure") { StreamLogHandler.standardError(label: $0) }
        return try AzureBlobStore.make(setting: String(rest), container: container, logger: logger,
                                       environment: environment)
    }
}
