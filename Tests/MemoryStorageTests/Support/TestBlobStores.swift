import Foundation
import JSONModel
import Logging
@testable import MemoryStorage

/// A blob store for one test, and the `--storage` string that makes `memory-tool` open the same store.
struct TestBackend: Sendable {
    let store: any BlobStore
    /// Passed to `memory-tool --storage`.
    let storageArgument: String
    /// The folder, when the backend is the file store (tests that poke raw files need it).
    let folder: URL?
}

/// The one place engine tests get their backend from. Today: a fresh temporary folder with ``FileBlobStore``.
/// Another backend (for example an Azure-protocol server when `MEMORY_TEST_BLOB=azure` and a connection string
/// are set) is added as a case here, and every engine and process test runs against it.
enum TestBlobStores {
    static func make(durable: Bool = false) throws -> TestBackend {
        if ProcessInfo.processInfo.environment["MEMORY_TEST_BLOB"] == "azure" { return try AzureTestBackend.make() }
        return try fileBackend(durable: durable)
    }

    static func fileBackend(durable: Bool = false) throws -> TestBackend {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentmemory-storage-tests")
            .appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = FileBlobStore(root: dir, durable: durable)
        return TestBackend(store: store, storageArgument: (durable ? "file:" : "file-nosync:") + dir.path, folder: dir)
    }

    /// A fresh file store (tests of FileBlobStore itself).
    static func fileStore(durable: Bool = false) throws -> (FileBlobStore, URL) {
        let b = try fileBackend(durable: durable)
        return (FileBlobStore(root: b.folder!, durable: durable), b.folder!)
    }
}

/// Collects log records so tests can assert that a warning was logged.
final class LogCapture: @unchecked Sendable {
    // `@unchecked`: `records` is only touched while holding `lock`.
    private let lock = NSLock()
    private var records: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []

    func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.lock()
        records.append((level, message, metadata))
        lock.unlock()
    }

    var errors: [(message: String, metadata: Logger.Metadata)] {
        lock.lock()
        defer { lock.unlock() }
        return records.filter { $0.level == .error }.map { ($0.message, $0.metadata) }
    }

    var warnings: [(message: String, metadata: Logger.Metadata)] {
        lock.lock()
        defer { lock.unlock() }
        return records.filter { $0.level == .warning }.map { ($0.message, $0.metadata) }
    }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(capture: self) }
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append(event.level, event.message.description, self.metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }
}

/// Test data.
enum Fixtures {
    static func memory(_ text: String, owner: PartitionOwner, dim: Int = 8, metadata: JSONValue = .null) -> StoredMemory {
        var v = (0..<dim).map { _ in Float.random(in: -1...1) }
        let n = max(1e-6, v.reduce(0) { $0 + $1 * $1 }.squareRoot())
        v = v.map { $0 / n }
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        return StoredMemory(id: owner.newMemoryId(), text: text, hash: "0123456789abcdef0123456789abcdef",
                            scopes: MemoryScopes(userId: owner.kind == .user ? owner.id : nil,
                                                 agentId: owner.kind == .agent ? owner.id : "agent-1"),
                            metadata: metadata, categories: ["test"], createdAt: now, updatedAt: now,
                            embedding: v)
    }

    static func key(_ tenant: String = "acme-\(UUID().uuidString.prefix(8))", user: String = "alice") -> PartitionKey {
        PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: user))
    }

    static let space = EmbeddingSpace(model: "test-hash", dimension: 8)
}
