import Foundation
import JSONModel
import Logging
import ModelClients
import Synchronization
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
        let gated = HeldAppends(FileBlobStore(root: root, durable: false))
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

        gated.hold()
        let a = add("buy milk", key: "k-a")
        #expect(await waitUntil { gated.heldCount == 1 })
        // Queued behind the held append, in this order: one group.
        let b = add("call the bank", key: "k-b")
        #expect(await waitUntil { store.commits.pendingCount(key) == 1 })
        let aRetry = add("buy milk", key: "k-a")
        #expect(await waitUntil { store.commits.pendingCount(key) == 2 })
        let bRetry = add("call the bank", key: "k-b")
        #expect(await waitUntil { store.commits.pendingCount(key) == 3 })
        let bReused = add("sell the car", key: "k-b")
        #expect(await waitUntil { store.commits.pendingCount(key) == 4 })
        gated.release()

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

/// A blob store that counts appends and can hold them until released; everything else goes to `base`.
private final class HeldAppends: BlobStore {
    private struct State {
        var appends = 0
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
    }

    let base: any BlobStore
    private let state = Mutex(State())

    init(_ base: any BlobStore) { self.base = base }

    var appendCount: Int { state.withLock { $0.appends } }
    var heldCount: Int { state.withLock { $0.held.count } }
    func hold() { state.withLock { $0.holding = true } }

    func release() {
        let held = state.withLock { s in
            s.holding = false
            defer { s.held = [] }
            return s.held
        }
        for c in held { c.resume() }
    }

    func appendBlock(_ name: String, data: Data, expectedPosition: Int?) async throws -> AppendResult {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                s.appends += 1
                if s.holding { s.held.append(c) }
                return !s.holding
            }
            if now { c.resume() }
        }
        return try await base.appendBlock(name, data: data, expectedPosition: expectedPosition)
    }

    func get(_ name: String, range: Range<Int>?) async throws -> BlobContent { try await base.get(name, range: range) }
    func properties(_ name: String) async throws -> BlobProperties { try await base.properties(name) }
    func put(_ name: String, data: Data, condition: WriteCondition) async throws -> ETag {
        try await base.put(name, data: data, condition: condition)
    }
    func createAppendBlob(_ name: String, condition: WriteCondition) async throws -> ETag {
        try await base.createAppendBlob(name, condition: condition)
    }
    func seal(_ name: String) async throws { try await base.seal(name) }
    func list(prefix: String, marker: String?, maxResults: Int) async throws -> BlobListPage {
        try await base.list(prefix: prefix, marker: marker, maxResults: maxResults)
    }
    func delete(_ name: String, condition: WriteCondition) async throws { try await base.delete(name, condition: condition) }
    var maxAppendBlockBytes: Int { base.maxAppendBlockBytes }
}

/// Polls `condition` (1 ms apart, at most ~20 s so a broken test ends); false if it never held.
private func waitUntil(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<20_000 {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return condition()
}
