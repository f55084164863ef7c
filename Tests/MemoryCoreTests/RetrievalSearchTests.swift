import Foundation
import MemoryStorage
import Testing
import TestSupport
@testable import MemoryCore

@Suite("Partition search")
struct RetrievalSearchTests {
    private func rows(_ hits: [SearchHit]) -> [Int] {
        hits.map { Int($0.memory.hash)! }
    }

    /// Brute force over the vectors the partition keeps (int8 codes, as every reader sees them), and, as a
    /// bound on what quantisation costs, over the embedder's original floats.
    @Test("the int8 scan + rescoring from the codes returns the brute-force top-10", arguments: ["random", "clustered"])
    func recallAgainstBruteForce(kind: String) {
        var rng = SeededGenerator(seed: kind == "random" ? 1 : 2)
        let n = 3000, d = 384
        let vectors = kind == "random"
            ? (0..<n).map { _ in RetrievalFixtures.randomVector(d, &rng) }
            : RetrievalFixtures.clusteredVectors(count: n, dimension: d, clusters: 20, noise: 0.6, &rng)
        let state = RetrievalFixtures.state(
            vectors.enumerated().map { RetrievalFixtures.memory($0.offset, text: "m", vector: $0.element) })
        let kept = state.memories.map(\.embedding)
        let index = PartitionSearchIndex(state: state)
        var found = 0, foundOriginal = 0, total = 0
        for _ in 0..<50 {
            // Queries near stored vectors (the realistic case) and fresh random directions.
            let base = vectors[Int.random(in: 0..<n, using: &rng)]
            let query = RetrievalFixtures.unit(zip(base, RetrievalFixtures.randomVector(d, &rng)).map { $0 + 0.5 * $1 })
            let expected = RetrievalFixtures.bruteForce(kept, query: query, k: 10)
            let got = rows(index.search(SearchQuery(text: "", vector: query, topK: 10, mode: .vector)))
            found += Set(got).intersection(expected).count
            foundOriginal += Set(got).intersection(RetrievalFixtures.bruteForce(vectors, query: query, k: 10)).count
            total += 10
        }
        let recall = Double(found) / Double(total)
        #expect(recall >= 0.999, "recall@10 on \(kind) data = \(recall)")
        let recallOriginal = Double(foundOriginal) / Double(total)
        #expect(recallOriginal >= 0.95, "recall@10 against the original floats on \(kind) data = \(recallOriginal)")
    }

    @Test("the scan over the codes ranks exactly as brute force over the memories' vectors, filtered or not")
    func codesRankAsBruteForce() {
        var rng = SeededGenerator(seed: 31)
        let n = 600, d = 64
        let vectors = RetrievalFixtures.clusteredVectors(count: n, dimension: d, clusters: 12, noise: 0.7, &rng)
        let state = RetrievalFixtures.state(vectors.enumerated().map {
            RetrievalFixtures.memory($0.offset, text: "m", vector: $0.element,
                                     scopes: MemoryScopes(userId: "alice", runId: "r\($0.offset % 3)"))
        })
        // What the partition keeps: int8 codes; brute force over their materialised floats.
        #expect(state.memories.allSatisfy { $0.vector.isQuantized })
        let kept = state.memories.map(\.embedding)
        let index = PartitionSearchIndex(state: state)
        let filter = try! MemoryFilter.parse(.object(["run_id": .string("r1")]))
        var exact = 0
        for _ in 0..<30 {
            let query = RetrievalFixtures.randomVector(d, &rng)
            let unit = RetrievalFixtures.unit(query)
            let cosine = kept.map { zip($0, unit).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            let all = rows(index.search(SearchQuery(text: "", vector: query, topK: 10, mode: .vector)))
            let expected = RetrievalFixtures.bruteForce(kept, query: query, k: 10)
            let filtered = rows(index.search(SearchQuery(text: "", vector: query, topK: 10, filter: filter, mode: .vector)))
            let expectedFiltered = RetrievalFixtures.bruteForce(kept, query: query, k: 10, rows: Array(stride(from: 1, to: n, by: 3)))
            // Rank by rank the same memory, or one whose brute-force cosine ties it to float rounding.
            for (got, want) in [(all, expected), (filtered, expectedFiltered)] {
                #expect(got.count == 10)
                #expect(zip(got, want).allSatisfy { abs(cosine[$0] - cosine[$1]) < 1e-5 })
                if got == want { exact += 1 }
            }
        }
        #expect(exact >= 55, "rankings identical to brute force in \(exact) of 60 searches")
    }

    @Test("the parallel scan returns exactly the sequential scan's candidates, filtered or not")
    func parallelScan() {
        var rng = SeededGenerator(seed: 12)
        let vectors = (0..<1000).map { _ in RetrievalFixtures.randomVector(48, &rng) }
        let q = QuantizedVectors(vectors: vectors.map { StoredVector($0) }, dimension: 48)
        var set = RowSet(count: 1000, filled: false)
        for row in stride(from: 3, to: 1000, by: 7) { set[row] = true }
        for selection in [RowSelection.all, .rows(set)] {
            let query = QuantizedQuery(RetrievalFixtures.randomVector(48, &rng))!
            let sequential = q.approximateTop(query, limit: 50, selection: selection, parallelThreshold: .max)
            let parallel = q.approximateTop(query, limit: 50, selection: selection, parallelThreshold: 0)
            #expect(sequential.count == 50)
            #expect(sequential.map(\.row) == parallel.map(\.row))
            #expect(sequential.map(\.score) == parallel.map(\.score))
            if case .rows(let s) = selection { #expect(parallel.allSatisfy { s[$0.row] }) }
        }
    }

    @Test("vector scores are exact cosines and the ranking is by them")
    func exactScores() {
        var rng = SeededGenerator(seed: 3)
        let vectors = (0..<200).map { _ in RetrievalFixtures.randomVector(64, &rng) }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(
            vectors.enumerated().map { RetrievalFixtures.memory($0.offset, text: "x", vector: $0.element) }))
        let query = vectors[17]
        let hits = index.search(SearchQuery(text: "", vector: query, topK: 5, mode: .vector, explain: true))
        #expect(rows(hits).first == 17)
        // The memory keeps its vector as int8 codes: its cosine with the original float vector is just below 1.
        #expect(abs(hits[0].score - 1) < 1e-3)
        for h in hits {
            let cos = Double(zip(h.memory.embedding, query).reduce(Float(0)) { $0 + $1.0 * $1.1 })
            #expect(abs(h.breakdown.semantic - max(0, cos)) < 1e-5)
            #expect(abs(h.score - h.breakdown.semantic) < 1e-12)
            #expect(h.explanation?.sources == ["vector"])
            #expect(abs((h.explanation?.approximateCosine ?? 9) - cos) < 0.02)
        }
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    /// Many memories closer to the query vector than the one containing the keyword: vector search misses it,
    /// hybrid finds it because the keyword side proposes it.
    @Test("a keyword hit adds recall in hybrid mode, not only rank")
    func keywordAddsRecall() {
        var rng = SeededGenerator(seed: 4)
        let d = 256
        let query = RetrievalFixtures.randomVector(d, &rng)
        var memories: [StoredMemory] = []
        for i in 0..<300 {
            memories.append(RetrievalFixtures.memory(i, text: "likes hiking in the mountains", vector: RetrievalFixtures.randomVector(d, &rng)))
        }
        let far = RetrievalFixtures.unit(query.map { -$0 })
        memories.append(RetrievalFixtures.memory(300, text: "Invoice number INV-4471 is overdue", vector: far))
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        let vectorOnly = rows(index.search(SearchQuery(text: "INV-4471 invoice", vector: query, topK: 5, mode: .vector)))
        #expect(vectorOnly.count == 5 && !vectorOnly.contains(300))
        let hybrid = index.search(SearchQuery(text: "INV-4471 invoice", vector: query, topK: 5, mode: .hybrid, explain: true,
                                              ranking: RetrievalFixtures.fusionOnly))
        let hit = hybrid.first
        #expect(hit?.memory.hash == "300")
        #expect(hit?.breakdown.semantic == 0)
        #expect((hit?.breakdown.bm25 ?? 0) > 0.5)
        #expect(abs((hit?.score ?? 0) - HybridScoring.keywordWeight * (hit?.breakdown.bm25 ?? 0)) < 1e-9)
        #expect(hit?.explanation?.sources == ["keyword"])
        #expect(Set(hit?.explanation?.matchedTerms ?? []) == ["inv", "4471", "invoic"])
        #expect((hit?.explanation?.cosine ?? 0) < -0.99)
        let keyword = index.search(SearchQuery(text: "INV-4471", vector: nil, topK: 3, mode: .keyword))
        #expect(rows(keyword) == [300])
        #expect(keyword.first.map { $0.score == $0.breakdown.bm25 && $0.score > 0.5 } == true)
    }

    @Test("hybrid score is the documented noisy-OR of semantic and BM25, always ≥ semantic")
    func fusedFormula() {
        var rng = SeededGenerator(seed: 5)
        let texts = ["prefers weekly invoices", "invoices go to accounting", "loves weekly yoga", "drinks coffee"]
        let memories = texts.enumerated().map { RetrievalFixtures.memory($0.offset, text: $0.element, vector: RetrievalFixtures.randomVector(16, &rng)) }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        let query = RetrievalFixtures.randomVector(16, &rng)
        let hits = index.search(SearchQuery(text: "weekly invoices", vector: query, topK: 10, mode: .hybrid,
                                            ranking: RetrievalFixtures.fusionOnly))
        #expect(!hits.isEmpty)
        for h in hits {
            let s = h.breakdown.semantic, k = h.breakdown.bm25
            #expect(abs(h.score - (s + (1 - s) * 0.5 * k)) < 1e-12)
            #expect(h.score >= s && h.score <= 1 && h.score >= 0)
            #expect(h.breakdown.recency == nil)
        }
        let best = hits.max { $0.breakdown.bm25 < $1.breakdown.bm25 }
        #expect(best?.memory.hash == "0" && (best?.breakdown.bm25 ?? 0) > 0.9)
    }

    @Test("threshold applies to the final score")
    func threshold() {
        var rng = SeededGenerator(seed: 6)
        let vectors = (0..<100).map { _ in RetrievalFixtures.randomVector(32, &rng) }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(vectors.enumerated().map { RetrievalFixtures.memory($0.offset, text: "t", vector: $0.element) }))
        let all = index.search(SearchQuery(text: "", vector: vectors[0], topK: 100, mode: .vector))
        let cut = index.search(SearchQuery(text: "", vector: vectors[0], topK: 100, threshold: 0.2, mode: .vector))
        #expect(cut.count == all.filter { $0.score >= 0.2 }.count)
        #expect(cut.allSatisfy { $0.score >= 0.2 } && cut.count < all.count && !cut.isEmpty)
    }

    @Test("recency weighting is off by default and, when on, prefers the newer of two equal memories")
    func recency() {
        let v: [Float] = [1, 0, 0, 0]
        let now = RetrievalFixtures.epoch.addingTimeInterval(100 * 86_400)
        let old = RetrievalFixtures.memory(0, text: "old", vector: v, updated: now.addingTimeInterval(-60 * 86_400))
        let new = RetrievalFixtures.memory(1, text: "new", vector: v, updated: now.addingTimeInterval(-86_400))
        let index = PartitionSearchIndex(state: RetrievalFixtures.state([old, new]))
        let plain = index.search(SearchQuery(text: "", vector: v, topK: 2, mode: .vector, now: now))
        #expect(plain.allSatisfy { $0.breakdown.recency == nil && abs($0.score - 1) < 1e-6 })
        let hits = index.search(SearchQuery(text: "", vector: v, topK: 2, mode: .vector, recencyHalfLife: 30 * 86_400, now: now, explain: true))
        #expect(rows(hits) == [1, 0])
        let oldHit = hits[1]
        #expect(abs((oldHit.breakdown.recency ?? 0) - 0.25) < 1e-9)
        #expect(abs(oldHit.score - 1 * (0.5 + 0.5 * 0.25)) < 1e-6)
        #expect(abs((oldHit.explanation?.ageSeconds ?? 0) - 60 * 86_400) < 1e-6)
    }

    @Test("expired memories are hidden unless includeExpired")
    func expiry() {
        let v: [Float] = [0, 1]
        let now = RetrievalFixtures.epoch
        let memories = [
            RetrievalFixtures.memory(0, text: "expired memo", vector: v, expires: now.addingTimeInterval(-1)),
            RetrievalFixtures.memory(1, text: "future memo", vector: v, expires: now.addingTimeInterval(3600)),
            RetrievalFixtures.memory(2, text: "plain memo", vector: v),
        ]
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        for mode in SearchMode.allCases {
            let hidden = index.search(SearchQuery(text: "memo", vector: v, topK: 10, mode: mode, now: now))
            #expect(Set(rows(hidden)) == [1, 2], "\(mode)")
            let shown = index.search(SearchQuery(text: "memo", vector: v, topK: 10, mode: mode, now: now, includeExpired: true))
            #expect(Set(rows(shown)) == [0, 1, 2], "\(mode)")
        }
        #expect(index.select(filter: .all, now: now, includeExpired: false).map(\.hash) == ["1", "2"])
    }

    @Test("filters restrict both sides, and a filtered vector search equals brute force over the matching rows")
    func filtered() throws {
        var rng = SeededGenerator(seed: 7)
        let n = 2000
        let vectors = (0..<n).map { _ in RetrievalFixtures.randomVector(64, &rng) }
        let memories = vectors.enumerated().map { i, v in
            RetrievalFixtures.memory(i, text: i % 2 == 0 ? "even invoice" : "odd invoice", vector: v,
                                     scopes: MemoryScopes(userId: "alice", runId: "run\(i % 50)"),
                                     metadata: .object(["n": .number(Double(i))]))
        }
        let state = RetrievalFixtures.state(memories)
        let kept = state.memories.map(\.embedding)
        let index = PartitionSearchIndex(state: state)
        let filter = try MemoryFilter.parse(FilterFixtures.json(#"{"user_id": "alice", "run_id": {"in": ["run3", "run4"]}}"#))
        let matching = (0..<n).filter { $0 % 50 == 3 || $0 % 50 == 4 }
        for _ in 0..<10 {
            let q = RetrievalFixtures.randomVector(64, &rng)
            let got = rows(index.search(SearchQuery(text: "", vector: q, topK: 10, filter: filter, mode: .vector)))
            #expect(got == RetrievalFixtures.bruteForce(kept, query: q, k: 10, rows: matching))
        }
        let keyword = index.search(SearchQuery(text: "even", topK: 1000, filter: filter, mode: .keyword))
        #expect(Set(rows(keyword)) == Set(matching.filter { $0 % 2 == 0 }))
        let none = try MemoryFilter.parse(FilterFixtures.json(#"{"user_id": "bob"}"#))
        #expect(index.search(SearchQuery(text: "invoice", vector: vectors[0], topK: 10, filter: none)).isEmpty)
    }

    @Test("degenerate inputs give empty or sensible results, never a crash")
    func degenerate() {
        let empty = PartitionSearchIndex(state: RetrievalFixtures.state([]))
        #expect(empty.search(SearchQuery(text: "x", vector: [1, 0], topK: 5)).isEmpty)
        let memories = [
            RetrievalFixtures.memory(0, text: "alpha", vector: [1, 0]),
            RetrievalFixtures.memory(1, text: "beta", vector: [0, 1, 0]),         // wrong dimension
            RetrievalFixtures.memory(2, text: "gamma", vector: [.nan, 1]),        // unusable vector
        ]
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        #expect(rows(index.search(SearchQuery(text: "", vector: [1, 0], topK: 5, mode: .vector))) == [0])
        #expect(rows(index.search(SearchQuery(text: "beta", vector: [1, 0], topK: 5))).contains(1))
        #expect(index.search(SearchQuery(text: "alpha", vector: [0, 0], topK: 5)).map(\.memory.hash) == ["0"])
        #expect(index.search(SearchQuery(text: "alpha", vector: [1, 0, 0, 0], topK: 5)).map(\.memory.hash) == ["0"])
        #expect(index.search(SearchQuery(text: "alpha", vector: [1, 0], topK: 0)).isEmpty)
        #expect(index.search(SearchQuery(text: "", vector: nil, topK: 5)).isEmpty)
    }
}
