import Foundation
import Testing
@testable import MemoryStorage

@Suite struct PartitionStateTests {
    let key = PartitionKey(tenant: "acme", owner: PartitionOwner(kind: .user, id: "alice"))

    func memory(_ text: String, id: UUID = UUID()) -> StoredMemory {
        StoredMemory(id: id, text: text, hash: "h", scopes: MemoryScopes(userId: "alice"),
                     createdAt: Date(timeIntervalSince1970: 1), updatedAt: Date(timeIntervalSince1970: 1),
                     embedding: [1, 0])
    }

    @Test func addUpdateDeleteKeepsHistoryAndPurgeErasesIt() {
        var state = PartitionState(key: key)
        let a = memory("likes tea"), b = memory("lives in Oslo")
        state.apply(LogBatch(operations: [.add(a), .add(b)]))
        var a2 = a
        a2.text = "likes coffee"
        state.apply(LogBatch(operations: [.update(a2)]))
        state.apply(LogBatch(operations: [.delete(id: b.id, at: Date())]))
        #expect(state.memories.map(\.text) == ["likes coffee"])
        #expect(state.history[a.id]?.map(\.event) == [.add, .update])
        #expect(state.history[a.id]?.last?.oldText == "likes tea")
        #expect(state.history[b.id]?.map(\.event) == [.add, .delete])
        #expect(state.memory(b.id) == nil)
        state.apply(LogBatch(operations: [.purge(id: a.id, at: Date())]))
        #expect(state.memories.isEmpty)
        #expect(state.history[a.id] == nil)
        #expect(state.revision == 4)
    }

    @Test func updateOfMissingMemoryIsIgnored() {
        var state = PartitionState(key: key)
        state.apply(LogBatch(operations: [.update(memory("ghost"))]))
        #expect(state.memories.isEmpty)
        #expect(state.history.isEmpty)
    }

    @Test func swapRemoveKeepsPositionsConsistent() {
        var state = PartitionState(key: key)
        let ms = (0..<10).map { memory("m\($0)") }
        state.apply(LogBatch(operations: ms.map { .add($0) }))
        state.apply(LogBatch(operations: [.purge(id: ms[2].id, at: Date()), .purge(id: ms[7].id, at: Date())]))
        for (i, m) in state.memories.enumerated() { #expect(state.positions[m.id] == i) }
        #expect(state.memories.count == 8)
    }

    @Test func idempotentResponsesAreRecordedAndExpire() {
        var state = PartitionState(key: key)
        let t = Date(timeIntervalSince1970: 1000)
        state.apply(LogBatch(operations: [], idempotencyKey: "k1", idempotentResponse: Data("r".utf8), writtenAt: t))
        #expect(state.idempotentResponses["k1"]?.response == Data("r".utf8))
        state.dropIdempotentResponses(olderThan: t.addingTimeInterval(1))
        #expect(state.idempotentResponses.isEmpty)
    }
}

@Suite struct NamingTests {
    @Test(arguments: ["alice", "", "a/b", "..", "名前", "x_y", "A-Z.0"])
    func escapingRoundTripsAndStaysInBlobAlphabet(_ s: String) {
        let e = BlobNameEscaping.escape(s)
        #expect(BlobNameEscaping.unescape(e) == s)
        #expect(!e.isEmpty)
        #expect(e.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }

    @Test func partitionsOfDifferentOwnersNeverShareAPrefix() {
        let a = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: "a"))
        let ab = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: "a/b"))
        #expect(!ab.prefix.hasPrefix(a.prefix))
        #expect(a.prefix == "t/t/p/user/a/")
    }

    @Test func memoryIdsCarryTheirOwnersHint() {
        let owner = PartitionOwner(kind: .user, id: "alice")
        let id = owner.newMemoryId()
        #expect(PartitionOwner.idHintHex(of: id) == owner.idHintHex)
        #expect(id.uuidString.count == 36)
        #expect(owner.newMemoryId() != id)
    }
}

@Suite struct ChangeJournalTests {
    let key = PartitionKey(tenant: "acme", owner: PartitionOwner(kind: .user, id: "alice"))

    func memory(_ i: Int) -> StoredMemory {
        StoredMemory(id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))!, text: "m\(i)", hash: "h",
                     scopes: MemoryScopes(userId: "alice"), createdAt: Date(timeIntervalSince1970: 1),
                     updatedAt: Date(timeIntervalSince1970: 1), embedding: [1, 0])
    }

    @Test func journalListsTouchedIdsByRevisionWithinOneLineage() {
        var state = PartitionState(key: key, memories: [memory(0), memory(1)], history: [:], idempotentResponses: [:], revision: 10)
        let lineage = state.journal.lineage
        #expect(PartitionState(key: key).journal.lineage != lineage)
        let before = state
        state.apply(LogBatch(operations: [.add(memory(2)), .update(memory(0))]))
        state.apply(LogBatch(operations: []))
        state.apply(LogBatch(operations: [.delete(id: memory(1).id, at: Date()), .purge(id: memory(9).id, at: Date())]))
        #expect(state.journal.lineage == lineage && state.revision == 13)
        #expect(state.changes(since: 10, lineage: lineage)?.map(\.memoryId) == [2, 0, 1, 9].map { memory($0).id })
        #expect(state.changes(since: 10, lineage: lineage)?.map(\.revision) == [11, 11, 13, 13])
        #expect(state.changes(since: 12, lineage: lineage)?.map(\.memoryId) == [memory(1).id, memory(9).id])
        #expect(state.changes(since: 13, lineage: lineage)?.isEmpty == true)
        #expect(state.changes(since: 14, lineage: lineage) == nil)           // the future
        #expect(state.changes(since: 9, lineage: lineage) == nil)            // before the state was created
        #expect(state.changes(since: 10, lineage: lineage &+ 1) == nil)      // another lineage
        #expect(before.journal.changes.isEmpty)                               // a value: copies are unaffected
    }

    @Test func journalDropsWholeOldBatchesBeyondItsCapacity() {
        var state = PartitionState(key: key)
        let lineage = state.journal.lineage
        let perBatch = 3
        let batches = 2 * ChangeJournal.retainedChanges / perBatch + 2
        for b in 0..<batches {
            state.apply(LogBatch(operations: (0..<perBatch).map { .add(memory(b * perBatch + $0)) }))
        }
        let journal = state.journal
        #expect(journal.changes.count >= ChangeJournal.retainedChanges && journal.changes.count <= 2 * ChangeJournal.retainedChanges)
        #expect(journal.changes.count % perBatch == 0)
        #expect(journal.changes.first?.revision == journal.completeAfter + 1)
        #expect(state.changes(since: 0, lineage: lineage) == nil)
        #expect(state.changes(since: journal.completeAfter, lineage: lineage)?.count == journal.changes.count)
    }
}
