import Foundation
import JSONModel
import MemoryStorage
import Testing
import TestSupport
@testable import MemoryCore

/// The search index evaluates filters over columns; these tests hold it to exactly the per-memory semantics.
@Suite("Filter columns agree with MemoryFilter.matches")
struct FilterColumnsTests {
    @Test("every grammar case selects the same memories through the index", arguments: FilterGrammarTests.cases)
    func fixtureCases(filter: String, expected: String) throws {
        let names = FilterFixtures.memories.keys.sorted()
        let state = RetrievalFixtures.state(names.map { FilterFixtures.memories[$0]! })
        let index = PartitionSearchIndex(state: state)
        let parsed = try MemoryFilter.parse(FilterFixtures.json(filter))
        let selected = index.select(filter: parsed, now: Date(), includeExpired: true).map(\.hash).sorted().joined()
        #expect(selected == expected, "filter \(filter)")
    }

    @Test("random memories: index selection equals per-memory matching for every grammar case")
    func randomMemories() throws {
        var rng = SeededGenerator(seed: 11)
        let users = ["alice", "bob", nil], runs = ["r1", "r2", "r3", nil], cats = ["finance", "travel", "food_preferences", "personal_finance"]
        let values: [JSONValue] = [.string("T-1"), .string("T-2"), .number(1), .number(3), .string("high"), .bool(true), .null,
                                   .array([.string("red"), .string("blue")]), .string("2026-11-20")]
        var memories: [StoredMemory] = []
        for i in 0..<400 {
            var meta: [String: JSONValue] = [:]
            for key in ["ticket_id", "priority", "vip", "tags", "due"] where Bool.random(using: &rng) {
                meta[key] = values.randomElement(using: &rng)!
            }
            var m = RetrievalFixtures.memory(
                i, text: ["Prefers weekly invoices", "Lives in Berlin", "peanut allergy"].randomElement(using: &rng)!,
                vector: [1, 0],
                scopes: MemoryScopes(userId: users.randomElement(using: &rng)!, agentId: Bool.random(using: &rng) ? "travel" : nil,
                                     runId: runs.randomElement(using: &rng)!),
                metadata: Int.random(in: 0..<5, using: &rng) == 0 ? .null : .object(meta),
                categories: cats.filter { _ in Int.random(in: 0..<3, using: &rng) == 0 },
                expires: Bool.random(using: &rng) ? FilterFixtures.date("2026-12-01T00:00:00Z") : nil)
            m.createdAt = FilterFixtures.date("2026-11-01T00:00:00Z").addingTimeInterval(Double(Int.random(in: 0..<60, using: &rng)) * 43_200)
            if m.scopes.isEmpty { m.scopes.agentId = "travel" }
            memories.append(m)
        }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        let now = FilterFixtures.date("2026-12-05T00:00:00Z")
        var nonTrivial = 0
        for (json, _) in FilterGrammarTests.cases {
            let filter = try MemoryFilter.parse(FilterFixtures.json(json))
            let expected = memories.filter { filter.matches($0) }.map(\.id)
            #expect(index.select(filter: filter, now: now, includeExpired: true).map(\.id) == expected, "filter \(json)")
            let visible = memories.filter { filter.matches($0) && !($0.expirationDate.map { $0 < now } ?? false) }.map(\.id)
            #expect(index.select(filter: filter, now: now, includeExpired: false).map(\.id) == visible, "filter \(json)")
            if !expected.isEmpty && expected.count < memories.count { nonTrivial += 1 }
        }
        #expect(nonTrivial > 30)
    }
}
