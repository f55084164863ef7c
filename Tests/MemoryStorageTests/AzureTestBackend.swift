import Foundation
import Logging
@testable import MemoryStorage

/// The engine tests' Azure backend (`MEMORY_TEST_BLOB=azure`): one Blob-protocol test server for the whole test
/// process, and a fresh container per test. `memory-tool` reaches the same container through
/// `--storage azure:<container>@<connection string>`.
enum AzureTestBackend {
    /// The shared server's port, and a duplicate of the write end of its stdin kept open for the life of the
    /// test process (the server exits when the test process does).
    private struct Shared: Sendable {
        var port: Int
        var stdinKeepAlive: Int32
    }

    private static let shared: Result<Shared, AzureTestServer.StartFailure> = {
        do {
            let server = try AzureTestServer()
            return .success(Shared(port: server.port, stdinKeepAlive: server.keepStdinOpen()))
        } catch {
            return .failure(AzureTestServer.StartFailure(description: "cannot start the blob test server: \(error)"))
        }
    }()

    static func make() throws -> TestBackend {
        let port = try shared.get().port
        let container = AzureTestServer.uniqueContainer()
        let setting = "DefaultEndpointsProtocol=http;AccountName=\(AzureTestServer.account);"
            + "AccountKey=\(AzureTestServer.key);BlobEndpoint=http://127.0.0.1:\(port)/\(AzureTestServer.account);"
        let store = try AzureBlobStore.make(setting: setting, container: container,
                                            logger: Logger(label: "test.azure"), environment: [:])
        return TestBackend(store: store, storageArgument: "azure:\(container)@\(setting)", folder: nil)
    }

    /// Copies every blob with its kind, bytes and seal state (the backend-neutral form of copying a folder).
    static func copyBlobs(from source: any BlobStore, to target: any BlobStore) async throws {
        for item in try await source.listAll(prefix: "") {
            let content = item.size > 0 ? try await source.get(item.name).data : Data()
            switch item.kind {
            case .block:
                try await target.put(item.name, data: content, condition: .none)
            case .append:
                try await target.createAppendBlob(item.name, condition: .none)
                var offset = 0
                while offset < content.count {  // in blocks Azure accepts
                    let end = min(content.count, offset + AzureBlobStore.maxAppendBlockSize)
                    try await target.appendBlock(item.name, data: content.subdata(in: offset..<end),
                                                 expectedPosition: offset)
                    offset = end
                }
                if item.isSealed { try await target.seal(item.name) }
            }
        }
    }
}
