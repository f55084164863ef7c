import Foundation
import MemoryStorage
import Testing
import TestSupport
@testable import MemoryCore

@Suite("Search index cache and memory block")
struct RetrievalCacheAndFormatTests {
    @Test("the cache reuses an index while the revision holds and updates it when the revision moves")
    func cacheRevision() async {
        let cache = SearchIndexCache(capacity: 2)
        var state = RetrievalFixtures.state([RetrievalFixtures.memory(0, text: "alpha", vector: [1, 0])], revision: 1)
        let first = await cache.index(for: state)
        let again = await cache.index(for: state)
        #expect(first === again)
        #expect(await cache.builds == 1)
        state.apply(LogBatch(operations: [.add(RetrievalFixtures.memory(1, text: "beta", vector: [0, 1]))]))
        let next = await cache.index(for: state)
        #expect(next !== first && next.revision == state.revision && next.count == 2)
        #expect(await counts(cache) == (1, 1))   // derived from the first, not rebuilt
        #expect(next.search(SearchQuery(text: "beta", vector: [0, 1], topK: 1)).first?.memory.text == "beta")
    }

    @Test("concurrent requests for one revision share a single build; an older revision does not evict a newer")
    func cacheSharing() async {
        let cache = SearchIndexCache(capacity: 4)
        let memories = (0..<2000).map { RetrievalFixtures.memory($0, text: "memory number \($0)", vector: [1, Float($0)]) }
        let state = RetrievalFixtures.state(memories, revision: 5)
        let indexes = await withTaskGroup(of: PartitionSearchIndex.self) { group in
            for _ in 0..<8 { group.addTask { await cache.index(for: state) } }
            return await group.reduce(into: [PartitionSearchIndex]()) { $0.append($1) }
        }
        #expect(indexes.count == 8 && indexes.allSatisfy { $0 === indexes[0] })
        #expect(await cache.builds == 1)
        let older = await cache.index(for: RetrievalFixtures.state(memories, revision: 4))
        #expect(older.revision == 4)
        #expect(await cache.index(for: state) === indexes[0])
        #expect(await cache.builds == 2)
    }

    @Test("the cache evicts the least recently used partition beyond its capacity")
    func cacheEviction() async {
        let cache = SearchIndexCache(capacity: 2)
        func state(_ user: String) -> PartitionState {
            PartitionState(key: PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: user)),
                           memories: [RetrievalFixtures.memory(0, text: user, vector: [1])], history: [:],
                           idempotentResponses: [:], revision: 1)
        }
        let a = await cache.index(for: state("a"))
        _ = await cache.index(for: state("b"))
        _ = await cache.index(for: state("a"))       // a is now more recent than b
        _ = await cache.index(for: state("c"))       // evicts b
        #expect(await cache.index(for: state("a")) === a)
        #expect(await cache.builds == 3)
        _ = await cache.index(for: state("b"))
        #expect(await cache.builds == 4)
    }

    @Test("concurrent searches share one index")
    func concurrent() async {
        var rng = SeededGenerator(seed: 9)
        let vectors = (0..<500).map { _ in RetrievalFixtures.randomVector(32, &rng) }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(vectors.enumerated().map { RetrievalFixtures.memory($0.offset, text: "m \($0.offset)", vector: $0.element) }))
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<16 {
                group.addTask {
                    index.search(SearchQuery(text: "m", vector: vectors[i], topK: 3, mode: .vector)).first?.memory.hash == "\(i)"
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 16 && results.allSatisfy { $0 })
    }

    private func hit(_ text: String, day: String, score: Double) -> SearchHit {
        var m = FilterFixtures.memories["a"]!
        m.text = text
        m.updatedAt = FilterFixtures.date(day + "T23:59:59Z")
        return SearchHit(memory: m, score: score, breakdown: ScoreBreakdown(semantic: score, bm25: 0, recency: nil))
    }

    @Test("memory block lists hits in the given order with their day, within the token budget")
    func block() {
        let hits = [hit("prefers weekly invoices", day: "2026-11-20", score: 0.9),
                    hit("allergic to\npeanuts", day: "1999-01-02", score: 0.5),
                    hit(String(repeating: "long ", count: 100), day: "2026-01-01", score: 0.4),
                    hit("short", day: "2026-01-01", score: 0.3)]
        let full = MemoryBlockFormatter.format(hits, maxTokens: 10_000)
        let lines = full.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "- [2026-11-20] prefers weekly invoices")
        #expect(lines[1] == "- [1999-01-02] allergic to peanuts")
        // Budget: each line costs ⌈(bytes + 1) / 4⌉; the third line does not fit and nothing after it is added.
        let firstTwo = MemoryBlockFormatter.estimatedTokens(lines[0] + "\n") + MemoryBlockFormatter.estimatedTokens(lines[1] + "\n")
        #expect(MemoryBlockFormatter.format(hits, maxTokens: firstTwo + 50) == lines[0] + "\n" + lines[1])
        #expect(MemoryBlockFormatter.format(hits, maxTokens: firstTwo - 1) == lines[0])
        #expect(MemoryBlockFormatter.format(hits, maxTokens: 0) == "")
        #expect(MemoryBlockFormatter.estimatedTokens(full) <= 10_000)
        #expect(MemoryBlockFormatter.estimatedTokens("abcd") == 1 && MemoryBlockFormatter.estimatedTokens("abcde") == 2)
    }
}
