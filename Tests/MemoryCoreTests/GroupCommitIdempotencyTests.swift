import Foundation
import JSONModel
import Logging
import ModelClients
import TestSupport
import Testing
@testable import MemoryStorage
@testable import MemoryCore

/// Adds that share one group commit keep their own idempotency: a retry in the same group gets the first
/// answer and writes nothing, a reused key with another request is refused, different keys write separately.
@Suite struct GroupCommitIdempotencyTests {
    @Test func idempotencyHoldsPerRequestInsideOneGroup() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let gated = GatedBlobStore(FileBlobStore(root: root, durable: false))
        let store = PartitionStore(blobs: gated, logger: Logger(label: "test"))
        let service = MemoryService(store: store, embedder: HashingEmbedder(dimension: 64), logger: Logger(label: "test"))
        let key = PartitionKey(tenant: "acme", owner: PartitionOwner(kind: .user, id: "alice"))
        func request(_ text: String) throws -> AddRequest {
            try AddRequest(json: json(#"{"messages":[{"role":"user","content":"\#(text)"}],"user_id":"alice","infer":false}"#))
        }
        func add(_ text: String, key: String) -> Task<JSONValue, any Error> {
            Task { ResponseEncoding.json(try await service.add(try request(text), RequestContext(tenant: "acme", idempotencyKey: key, now: Date()))) }
        }
        _ = try await service.add(try request("warm up"), RequestContext(tenant: "acme", now: Date()))
        let before = gated.appendCount

        gated.closeGate()
        let a = add("buy milk", key: "k-a")
        #expect(await eventually { gated.heldCount == 1 })
        // Queued behind the held append, in this order: one group.
        let b = add("call the bank", key: "k-b")
        #expect(await eventually { store.commits.pendingCount(key) == 1 })
        let aRetry = add("buy milk", key: "k-a")
        #expect(await eventually { store.commits.pendingCount(key) == 2 })
        let bRetry = add("call the bank", key: "k-b")
        #expect(await eventually { store.commits.pendingCount(key) == 3 })
        let bReused = add("sell the car", key: "k-b")
        #expect(await eventually { store.commits.pendingCount(key) == 4 })
        gated.openGate()

        let first = try await a.value, second = try await b.value
        #expect(try await aRetry.value == first)
        #expect(try await bRetry.value == second)
        #expect(first["results"]?.arrayValue?.first?["id"] != second["results"]?.arrayValue?.first?["id"])
        let refused = await serviceError { _ = try await bReused.value }
        #expect(refused?.code == "idempotency_key_reused")
        // A's append, then one append for the group (B; the retries and the refused request add nothing).
        #expect(gated.appendCount - before == 2)
        let texts = try await PartitionStore(blobs: gated, logger: Logger(label: "test")).read(key).memories.map(\.text)
        #expect(texts == ["warm up", "buy milk", "call the bank"])
    }
}
