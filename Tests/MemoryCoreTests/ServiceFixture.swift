import Foundation
import JSONModel
import Logging
import MemoryStorage
import ModelClients
@testable import MemoryCore

/// A memory service over a fresh folder store and the hashing embedder, for one test.
struct ServiceFixture {
    let root: URL
    let service: MemoryService

    init(embedder: any Embedder = HashingEmbedder(dimension: 64), chat: (any ChatModel)? = nil,
         maxAppendBlockBytes: Int = .max, options: MemoryServiceOptions = MemoryServiceOptions(),
         storeOptions: PartitionStoreOptions = PartitionStoreOptions()) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        let blobs = FileBlobStore(root: root, durable: false, maxAppendBlockBytes: maxAppendBlockBytes)
        let store = PartitionStore(blobs: blobs, options: storeOptions, logger: logger)
        service = MemoryService(store: store, embedder: embedder, chat: chat, options: options, logger: logger)
    }

    func context(_ tenant: String = "acme", key: String? = nil, now: Date = Date()) -> RequestContext {
        RequestContext(tenant: tenant, idempotencyKey: key, now: now)
    }

    /// Adds verbatim messages for a user and returns the new ids.
    @discardableResult
    func add(_ texts: [String], user: String = "alice", tenant: String = "acme", metadata: JSONValue = .null,
             infer: Bool = false, extra: [String: JSONValue] = [:]) async throws -> [String] {
        var body: [String: JSONValue] = [
            "messages": .array(texts.map { .object(["role": .string("user"), "content": .string($0)]) }),
            "user_id": .string(user), "infer": .bool(infer),
        ]
        if !metadata.isNull { body["metadata"] = metadata }
        body.merge(extra) { $1 }
        let answer = try await service.add(try AddRequest(json: .object(body)), context(tenant))
        return answer.ids
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
}

/// Parses a JSON literal written in a test.
func json(_ text: String) -> JSONValue {
    (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
}

/// Runs `body` expecting a `MemoryServiceError`; returns it (nil when nothing or something else was thrown).
func serviceError(_ body: () async throws -> Void) async -> MemoryServiceError? {
    do {
        try await body()
        return nil
    } catch let e as MemoryServiceError {
        return e
    } catch {
        return nil
    }
}
