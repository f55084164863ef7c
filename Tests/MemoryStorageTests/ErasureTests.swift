import Foundation
import Testing
@testable import MemoryStorage

/// A deleted memory's text leaves the state at once (history keeps the events, not the text; idempotent answers
/// that named it are emptied) and leaves storage at compaction (exports that held it are deleted).
@Suite struct ErasureTests {
    let owner = PartitionOwner(kind: .user, id: "alice")

    func state(_ batches: [LogBatch]) -> PartitionState {
        var s = PartitionState(key: PartitionKey(tenant: "t", owner: owner))
        for b in batches { s.apply(b) }
        return s
    }

    @Test func deleteKeepsHistoryEventsWithoutTheirText() {
        let m = Fixtures.memory("secret text", owner: owner)
        var updated = m
        updated.text = "newer secret"
        let s = state([LogBatch(operations: [.add(m)]), LogBatch(operations: [.update(updated)]),
                       LogBatch(operations: [.delete(id: m.id, at: Date())])])
        let events = try? #require(s.history[m.id])
        #expect(events?.map(\.event) == [.add, .update, .delete])
        #expect(events?.allSatisfy { $0.oldText == nil && $0.newText == nil } == true)
        #expect(s.memory(m.id) == nil)
    }

    @Test func erasingAMemoryEmptiesEveryIdempotentAnswerThatNamedIt() {
        let a = Fixtures.memory("a", owner: owner), b = Fixtures.memory("b", owner: owner)
        var s = state([
            LogBatch(operations: [.add(a)], idempotencyKey: "k1", idempotentResponse: Data("answer a".utf8)),
            LogBatch(operations: [.add(b)], idempotencyKey: "k2", idempotentResponse: Data("answer b".utf8)),
        ])
        #expect(s.idempotentResponses["k1"]?.memoryIds == [a.id])
        s.apply(LogBatch(operations: [.purge(id: a.id, at: Date())]))
        #expect(s.idempotentResponses["k1"]?.isErased == true)
        #expect(s.idempotentResponses["k2"]?.response == Data("answer b".utf8))
        // Erased answers and the ids survive a snapshot round trip.
        let decoded = try? SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space)),
                                                key: s.key)
        #expect(decoded?.idempotentResponses == s.idempotentResponses)
        var reloaded = decoded!.state
        reloaded.apply(LogBatch(operations: [.delete(id: b.id, at: Date())]))
        #expect(reloaded.idempotentResponses["k2"]?.isErased == true)
    }

    @Test func compactionDeletesExportsHoldingAMemoryThatIsGoneAndKeepsTheOthers() async throws {
        let b = try TestBlobStores.make()
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = 0
        let s = PartitionStore(blobs: b.store, options: o, logger: .init(label: "test"))
        let key = Fixtures.key()
        let m1 = Fixtures.memory("one", owner: key.owner), m2 = Fixtures.memory("two", owner: key.owner)
        _ = try await s.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: [.add(m1), .add(m2)]), ()) }
        let both = UUID(), onlyTwo = UUID()
        try await s.putExport(key, id: both, memoryIds: [m1.id, m2.id], document: Data("one two".utf8))
        try await s.putExport(key, id: onlyTwo, memoryIds: [m2.id], document: Data("two".utf8))
        #expect(try await s.export(key, id: both) == Data("one two".utf8))
        _ = try await s.write(key, space: nil) { _ in .append(LogBatch(operations: [.delete(id: m1.id, at: Date())]), ()) }
        _ = try await s.compact(key)
        #expect(try await s.export(key, id: both) == nil)
        #expect(try await s.export(key, id: onlyTwo) == Data("two".utf8))
        // Erasing the partition takes its exports with it.
        _ = try await s.write(key, space: nil) { _ in .append(LogBatch(operations: [.purge(id: m2.id, at: Date()), .purge(id: m1.id, at: Date())]), ()) }
        _ = try await s.compact(key)
        _ = try await s.compact(key)
        #expect(try await b.store.listAll(prefix: key.prefix).isEmpty)
    }
}
