import Foundation
import JSONModel
import MemoryStorage
import Testing
import TestSupport
@testable import MemoryCore

/// Random partitions and random write batches for the incremental-index tests, plus the comparison of a
/// derived index with a full rebuild.
struct RandomPartitionWriter {
    var rng: SeededGenerator
    let dimension: Int
    private var nextId = 0
    private var now = RetrievalFixtures.epoch
    /// Vectors reused now and then, so exact score ties between distinct memories happen.
    private var sharedVectors: [[Float]] = []
    static let words = ["tea", "coffee", "oslo", "bergen", "invoice", "invoices", "weekly", "monthly", "running",
                        "cat", "dog", "peanut", "allergy", "meeting", "friday", "project", "budget", "travel",
                        "train", "flight", "book", "music", "jazz", "piano", "garden"]

    init(seed: UInt64, dimension: Int) {
        rng = SeededGenerator(seed: seed)
        self.dimension = dimension
        sharedVectors = (0..<6).map { _ in RetrievalFixtures.randomVector(dimension, &rng) }
    }

    mutating func memory(id: UUID? = nil) -> StoredMemory {
        nextId += 1
        now = now.addingTimeInterval(37)
        let i = nextId
        let text = (0..<Int.random(in: 2...7, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }
            .joined(separator: " ")
        let vector: [Float]
        switch Int.random(in: 0..<20, using: &rng) {
        case 0, 1: vector = sharedVectors.randomElement(using: &rng)!
        case 2: vector = RetrievalFixtures.randomVector(dimension / 2, &rng)      // a stray dimension
        default: vector = RetrievalFixtures.randomVector(dimension, &rng)
        }
        var metadata: [String: JSONValue] = ["priority": .number(Double(Int.random(in: 0..<5, using: &rng)))]
        if Bool.random(using: &rng) { metadata["topic"] = .string(["home", "work", "food"].randomElement(using: &rng)!) }
        let expires: Date? = Int.random(in: 0..<6, using: &rng) == 0
            ? RetrievalFixtures.epoch.addingTimeInterval(Double(Int.random(in: -1000...200_000, using: &rng))) : nil
        return StoredMemory(
            id: id ?? UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))!, text: text, hash: "\(i)",
            scopes: MemoryScopes(userId: "alice", runId: "run\(Int.random(in: 0..<10, using: &rng))"),
            metadata: .object(metadata),
            categories: Bool.random(using: &rng) ? [["finance", "health", "travel"].randomElement(using: &rng)!] : [],
            createdAt: now, updatedAt: now, expirationDate: expires, embedding: vector)
    }

    /// A batch of `1...maxOperations` random operations on `state`: adds, updates (text, vector, metadata), deletes,
    /// purges, a replayed add of a live id, and operations on ids that are not live.
    mutating func batch(for state: PartitionState, maxOperations: Int) -> LogBatch {
        var ops: [LogOperation] = []
        let live = state.memories.map(\.id)
        for _ in 0..<Int.random(in: 1...maxOperations, using: &rng) {
            let target = live.randomElement(using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...2: ops.append(.add(memory()))
            case 3...4:
                if let target { ops.append(.update(memory(id: target))) }
            case 5:
                if let target, var m = state.memory(target) {
                    m.text += " " + Self.words.randomElement(using: &rng)!      // text only: same vector
                    ops.append(.update(m))
                }
            case 6: if let target { ops.append(.delete(id: target, at: now)) }
            case 7: if let target { ops.append(.purge(id: target, at: now)) }
            case 8: if let target { ops.append(.add(memory(id: target))) }
            default: ops.append(.update(memory()))                            // not live: ignored
            }
        }
        return LogBatch(operations: ops, writtenAt: now)
    }

    mutating func query() -> [Float] {
        Bool.random(using: &rng) ? RetrievalFixtures.randomVector(dimension, &rng) : sharedVectors.randomElement(using: &rng)!
    }

    mutating func queryText() -> String {
        (0..<Int.random(in: 1...3, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }.joined(separator: " ")
    }
}

enum IndexComparison {
    static func filters() throws -> [MemoryFilter] {
        try [
            .all,
            MemoryFilter.parse(.object(["user_id": .string("alice")])),
            MemoryFilter.parse(.object(["user_id": .string("alice"), "run_id": .string("run3")])),     // selective
            MemoryFilter.parse(.object(["priority": .object(["gte": .number(3)])])),
            MemoryFilter.parse(.object(["NOT": .object(["categories": .object(["contains": .string("fin")])])])),
            MemoryFilter.parse(.object(["OR": .array([.object(["topic": .string("work")]),
                                                      .object(["keywords": .string("tea")])])])),
        ]
    }

    /// Expects `derived` to answer every query, filter and list exactly like `fresh`.
    static func expectSame(_ derived: PartitionSearchIndex, _ fresh: PartitionSearchIndex,
                           writer: inout RandomPartitionWriter, step: Int) throws {
        #expect(derived.count == fresh.count && derived.revision == fresh.revision)
        let nows = [RetrievalFixtures.epoch, RetrievalFixtures.epoch.addingTimeInterval(100_000)]
        for (f, filter) in try filters().enumerated() {
            for now in nows {
                for includeExpired in [false, true] {
                    #expect(derived.select(filter: filter, now: now, includeExpired: includeExpired)
                            == fresh.select(filter: filter, now: now, includeExpired: includeExpired),
                            "select, step \(step), filter \(f)")
                }
            }
            for mode in SearchMode.allCases {
                for topK in [3, 20] {
                    let query = SearchQuery(
                        text: writer.queryText(), vector: writer.query(), topK: topK,
                        threshold: topK == 20 ? 0.05 : nil, filter: filter, mode: mode,
                        recencyHalfLife: topK == 3 ? 86_400 : nil, now: nows[topK == 3 ? 0 : 1], explain: true)
                    let a = derived.search(query), b = fresh.search(query)
                    #expect(a.map(\.memory) == b.map(\.memory), "ids, step \(step), filter \(f), \(mode), k=\(topK)")
                    #expect(a.map(\.score) == b.map(\.score), "scores, step \(step), filter \(f), \(mode)")
                    #expect(a.map(\.breakdown) == b.map(\.breakdown), "breakdown, step \(step), filter \(f), \(mode)")
                    #expect(a.map(\.explanation) == b.map(\.explanation), "explanation, step \(step), filter \(f), \(mode)")
                }
            }
        }
    }
}

/// The cache's (full builds, incremental builds).
func counts(_ cache: SearchIndexCache) async -> (Int, Int) {
    await (cache.builds, cache.incrementalBuilds)
}
