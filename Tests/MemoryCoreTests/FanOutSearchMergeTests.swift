import Foundation
import JSONModel
import MemoryStorage
import ModelClients
import Testing
@testable import MemoryCore

/// A search fanned out over many partitions answers exactly what searching each partition on its own and
/// sorting all their hits together (score, then memory id as `uuidString`) answers: same hits, same order,
/// same scores — with many score ties across partitions.
@Suite struct FanOutSearchMergeTests {
    /// The merge as it was first written: every partition's hits joined, one stable sort, the first `topK`.
    static func referenceMerge(_ lists: [[SearchHit]], topK: Int) -> [SearchHit] {
        let merged = lists.joined().sorted { a, b in
            a.score != b.score ? a.score > b.score : a.memory.id.uuidString < b.memory.id.uuidString
        }
        return Array(merged.prefix(topK))
    }

    static func hit(_ score: Double, id: UUID = UUID(), text: String = "m") -> SearchHit {
        SearchHit(memory: StoredMemory(id: id, text: text, hash: "", scopes: MemoryScopes(userId: "u"),
                                       createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0),
                                       embedding: [1, 0]),
                  score: score, breakdown: ScoreBreakdown(semantic: score, bm25: 0, recency: nil))
    }

    @Test func idOrderWithoutStringsIsUUIDStringOrder() {
        var ids = (0..<2000).map { _ in UUID() }
        // Ids that differ in one byte only, in every byte.
        let base = UUID()
        for byte in 0..<16 {
            var raw = base.uuid
            withUnsafeMutableBytes(of: &raw) { $0[byte] = $0[byte] &+ 1 }
            ids.append(UUID(uuid: raw))
        }
        for (a, b) in zip(ids, ids.shuffled()) {
            #expect(FanOutHitMerge.idPrecedes(a, b) == (a.uuidString < b.uuidString))
        }
    }

    @Test func mergeMatchesOneSortOfEveryHitWithTies() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<200 {
            // Scores from a small set, so ties across and within partitions are common; one memory may even
            // appear in two partitions' hits (same id, same score): the stable order decides.
            let shared = UUID()
            let lists: [[SearchHit]] = (0..<Int.random(in: 0...12, using: &rng)).map { _ in
                (0..<Int.random(in: 0...8, using: &rng)).map { _ in
                    Self.hit(Double(Int.random(in: 0...4, using: &rng)) / 4,
                             id: Int.random(in: 0..<10, using: &rng) == 0 ? shared : UUID())
                }.sorted { $0.score > $1.score }
            }
            for topK in [1, 3, 10, 1000] {
                let merged = FanOutHitMerge.best(topK, of: lists)
                let reference = Self.referenceMerge(lists, topK: topK)
                #expect(merged.map(\.memory.id) == reference.map(\.memory.id), "round \(round), top_k \(topK)")
                #expect(merged.map(\.score) == reference.map(\.score))
            }
        }
        #expect(FanOutHitMerge.best(0, of: [[Self.hit(1)]]).isEmpty)
    }

    @Test func agentWideSearchEqualsSearchingEachPartitionAndSortingAll() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        // 12 users; many texts repeat across users (same text, same vector: equal scores in several
        // partitions), some are unique.
        let common = ["likes green tea", "works at the harbour", "plays chess on sundays", "allergic to peanuts",
                      "drives a red car", "likes tea and cake"]
        for u in 0..<12 {
            var texts = common.shuffled().prefix(4 + u % 3).map { $0 }
            texts.append("user \(u) keeps bees and likes honey tea")
            _ = try await f.add(texts, user: "user\(u)", extra: ["agent_id": .string("helper")])
        }
        let context = f.context(now: Date(timeIntervalSince1970: 1_800_000_000))
        let filter = try MemoryFilter.parse(json(#"{"agent_id":"helper"}"#))
        let keys = try await f.service.partitions(for: filter, context)
        #expect(keys.count == 13)
        let embedder = HashingEmbedder(dimension: 64)
        for text in ["tea", "likes tea", "chess sundays", "bees honey", "nothing matches this"] {
            let vector = try await embedder.embed([text], purpose: .query)[0]
            for mode in SearchMode.allCases {
                for topK in [1, 5, 100] {
                    for halfLife in [nil, 86_400.0] {
                        let query = SearchQuery(text: text, vector: vector, topK: topK, threshold: 0, filter: filter,
                                                mode: mode, recencyHalfLife: halfLife, now: context.now)
                        let fanned = try await f.service.searchPartitions(keys, query)
                        var lists: [[SearchHit]] = []
                        for key in keys {
                            lists.append(PartitionSearchIndex(state: try await f.service.store.read(key)).search(query))
                        }
                        let reference = Self.referenceMerge(lists, topK: topK)
                        let label = "\(text) \(mode) top_k \(topK) half-life \(halfLife ?? 0)"
                        #expect(fanned.map(\.memory.id) == reference.map(\.memory.id), "\(label)")
                        #expect(fanned.map(\.score) == reference.map(\.score), "\(label)")
                        #expect(fanned.map(\.breakdown) == reference.map(\.breakdown), "\(label)")
                    }
                }
            }
        }
    }
}
