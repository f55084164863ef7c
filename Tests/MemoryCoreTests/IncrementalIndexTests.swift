import Foundation
import MemoryStorage
import Testing
@testable import MemoryCore

@Suite("Incremental search index")
struct IncrementalIndexTests {
    @Test("a derived index answers search, filters, expiry and select exactly like a full rebuild", arguments: [1, 2, 3])
    func differential(seed: UInt64) throws {
        var writer = RandomPartitionWriter(seed: seed, dimension: 32)
        var memories: [StoredMemory] = []
        for _ in 0..<400 { memories.append(writer.memory()) }
        var state = RetrievalFixtures.state(memories, revision: 7)
        var index = PartitionSearchIndex(state: state)
        var derivations = 0, rebuilds = 0
        for step in 0..<40 {
            state.apply(writer.batch(for: state, maxOperations: step % 10 == 9 ? 40 : 6))
            let fresh = PartitionSearchIndex(state: state)
            let allowed = IncrementalIndexPolicy.changes(from: index.origin, baseCount: index.base.count, to: state) != nil
            let derived = PartitionSearchIndex(state: state, updating: index)
            // Within the policy's limit a derivation must not fall back (the dimension never changes here).
            #expect((derived != nil) == allowed, "step \(step)")
            if let derived {
                derivations += 1
                #expect(derived.isIncremental)
                try IndexComparison.expectSame(derived, fresh, writer: &writer, step: step)
                index = derived
            } else {
                rebuilds += 1
                index = fresh          // the new base
            }
        }
        // Both paths were exercised: many derivations, and rebuilds once the change since the base grew.
        #expect(derivations >= 25 && rebuilds >= 2, "derivations \(derivations), rebuilds \(rebuilds)")
    }

    @Test("edges: from an empty partition (no dimension yet), every base row changed, everything purged")
    func edges() throws {
        var writer = RandomPartitionWriter(seed: 9, dimension: 16)
        var state = PartitionState(key: RetrievalFixtures.key)
        let empty = PartitionSearchIndex(state: state)
        state.apply(LogBatch(operations: (0..<10).map { _ in .add(writer.memory()) }))
        // The empty index has no vector dimension; the partition now has one: rebuild.
        #expect(PartitionSearchIndex(state: state, updating: empty) == nil)
        let full = PartitionSearchIndex(state: state)
        let retexted = state.memories.map { m -> LogOperation in
            var m = m
            m.text = writer.queryText()
            return .update(m)
        }
        state.apply(LogBatch(operations: retexted))
        let allChanged = try #require(PartitionSearchIndex(state: state, updating: full))
        try IndexComparison.expectSame(allChanged, PartitionSearchIndex(state: state), writer: &writer, step: 0)
        state.apply(LogBatch(operations: state.memories.map { .purge(id: $0.id, at: Date()) }))
        let emptied = PartitionSearchIndex(state: state, updating: allChanged) ?? PartitionSearchIndex(state: state)
        #expect(emptied.count == 0 && emptied.search(SearchQuery(text: "tea", vector: writer.query())).isEmpty)
        #expect(emptied.select(filter: .all, now: Date(), includeExpired: true).isEmpty)
    }

    @Test("the cache derives the index after a small write instead of rebuilding it")
    func cacheDerives() async throws {
        var writer = RandomPartitionWriter(seed: 4, dimension: 16)
        var state = RetrievalFixtures.state((0..<2000).map { _ in writer.memory() }, revision: 3)
        let cache = SearchIndexCache(capacity: 4)
        let first = await cache.index(for: state)
        #expect(await cache.builds == 1 && !first.isIncremental)
        for round in 1...3 {
            state.apply(LogBatch(operations: (0..<10).map { _ in .add(writer.memory()) }))
            let next = await cache.index(for: state)
            #expect(next.isIncremental && next.revision == state.revision && next.count == 2000 + 10 * round)
            #expect(await counts(cache) == (1, round))
            #expect(await cache.index(for: state) === next)
            try IndexComparison.expectSame(next, PartitionSearchIndex(state: state), writer: &writer, step: round)
        }
        // A change beyond the limit (100 = 5 % of 2 000) rebuilds, and the rebuild is the next base.
        state.apply(LogBatch(operations: (0..<100).map { _ in .add(writer.memory()) }))
        #expect(await !cache.index(for: state).isIncremental)
        #expect(await counts(cache) == (2, 3))
        state.apply(LogBatch(operations: [.add(writer.memory())]))
        #expect(await cache.index(for: state).isIncremental)
        #expect(await counts(cache) == (2, 4))
    }

    @Test("a state of another lineage is rebuilt in full, even at a later revision")
    func otherLineageRebuilds() async {
        var writer = RandomPartitionWriter(seed: 5, dimension: 16)
        let memories = (0..<50).map { _ in writer.memory() }
        let cache = SearchIndexCache(capacity: 4)
        _ = await cache.index(for: RetrievalFixtures.state(memories, revision: 3))
        // The same memories loaded again (say from a new snapshot) with one more: another initialiser call.
        let reloaded = RetrievalFixtures.state(memories + [writer.memory()], revision: 4)
        let index = await cache.index(for: reloaded)
        #expect(!index.isIncremental && index.count == 51)
        #expect(await counts(cache) == (2, 0))
        // …and the derivation itself refuses it.
        #expect(PartitionSearchIndex(state: reloaded, updating: PartitionSearchIndex(state: RetrievalFixtures.state(memories, revision: 3))) == nil)
    }
}
