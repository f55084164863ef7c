import Foundation
import JSONModel
import MemoryStorage
@testable import MemoryCore

/// Four memories with every field kind filled in differently, named a–d, for the filter tables.
enum FilterFixtures {
    static func date(_ s: String) -> Date {
        guard let (t, _) = ISODateParsing.dateTime(s) else { return Date(timeIntervalSince1970: -1) }
        return Date(timeIntervalSince1970: t)
    }

    static func json(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string("<<bad test json>>")
    }

    static func memory(
        _ name: String, text: String, scopes: MemoryScopes, metadata: String, categories: [String],
        created: String, updated: String, expires: String? = nil
    ) -> StoredMemory {
        StoredMemory(
            id: UUID(uuidString: "00000000-0000-0000-0000-00000000000\(name == "a" ? "A" : name == "b" ? "B" : name == "c" ? "C" : "D")")!,
            text: text, hash: name, scopes: scopes, metadata: json(metadata), categories: categories,
            createdAt: date(created), updatedAt: date(updated), expirationDate: expires.map(date), embedding: [1, 0])
    }

    static let memories: [String: StoredMemory] = [
        "a": memory("a", text: "Prefers weekly invoices", scopes: MemoryScopes(userId: "alice", agentId: "travel", runId: "r1"),
                    metadata: #"{"ticket_id": "T-1", "priority": 3, "vip": true, "tags": ["red", "blue"], "due": "2026-11-20"}"#,
                    categories: ["food_preferences", "travel"], created: "2026-11-20T10:30:00Z", updated: "2026-11-21T08:00:00Z"),
        "b": memory("b", text: "Allergic to Peanuts", scopes: MemoryScopes(userId: "alice", agentId: "support"),
                    metadata: #"{"ticket_id": "T-2", "priority": 1, "vip": false, "tags": ["green"], "due": "2026-12-01T09:00:00Z"}"#,
                    categories: ["finance"], created: "2026-11-19T23:59:59Z", updated: "2026-11-19T23:59:59Z",
                    expires: "2026-12-01T00:00:00Z"),
        "c": memory("c", text: "Lives in Berlin", scopes: MemoryScopes(userId: "bob", appId: "shop"),
                    metadata: "null", categories: [], created: "2026-10-01T00:00:00Z", updated: "2026-11-22T12:00:00.500Z"),
        "d": memory("d", text: "日本語のメモ", scopes: MemoryScopes(agentId: "travel", runId: "r2"),
                    metadata: #"{"priority": "high", "nested": {"city": "Paris"}, "score": 2.5}"#,
                    categories: ["personal_finance"], created: "2025-01-01T00:00:00Z", updated: "2025-01-01T00:00:00Z"),
    ]

    /// The names (sorted, concatenated) of the fixture memories `filter` matches.
    static func matching(_ filter: MemoryFilter) -> String {
        memories.keys.sorted().filter { filter.matches(memories[$0]!) }.joined()
    }
}
