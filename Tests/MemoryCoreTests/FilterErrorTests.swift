import Foundation
import MemoryStorage
import Testing
@testable import MemoryCore

@Suite("Filter errors and pinned scopes")
struct FilterErrorTests {
    /// (filter JSON, a fragment the error message must contain).
    static let bad: [(String, String)] = [
        (#"{"user_id": {"equals": "alice"}}"#, "\"equals\""),
        (#"{"priority": {"$gt": 1}}"#, "\"$gt\""),
        (#"{"metadata": {"ticket_id": {"like": "T%"}}}"#, "\"like\""),
        (#"{"AND": [{"user_id": "a"}, {"created_at": {"after": "2026-01-01"}}]}"#, "\"after\""),
        (#"{"user_id": {"in": "alice"}}"#, "takes a list"),
        (#"{"categories": {"nin": 3}}"#, "takes a list"),
        (#"{"created_at": {"gte": "yesterday"}}"#, "\"yesterday\""),
        (#"{"created_at": {"gte": "2026-02-30"}}"#, "2026-02-30"),
        (#"{"updated_at": {"lt": true}}"#, "true"),
        (#"{"created_at": {"contains": "2026"}}"#, "contains"),
        (#"{"created_at": {"in": ["2026-01-01", "soon"]}}"#, "\"soon\""),
        (#"{"AND": "user_id"}"#, "AND"),
        (#"{"OR": 3}"#, "OR"),
        (#"{"NOT": [1]}"#, "NOT[0]"),
        (#"{"metadata": 5}"#, "metadata"),
        (#"{"user_id": {}}"#, "empty operator object"),
        (#"{"keywords": {"icontains": 5}}"#, "icontains"),
        (#"{"tags": {"contains": ["a"]}}"#, "contains"),
        (#"{"gte": 5}"#, "\"gte\""),
        (#"["user_id"]"#, "JSON object"),
    ]

    @Test("malformed filters throw a FilterError naming the culprit", arguments: bad)
    func rejects(filter: String, fragment: String) {
        do {
            _ = try MemoryFilter.parse(FilterFixtures.json(filter))
            Issue.record("\(filter) was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(filter): \(error.message)")
        }
    }

    @Test("scopeTargets pins equalities through AND, never through NOT; OR needs every branch pinned")
    func pinned() throws {
        let f = try MemoryFilter.parse(FilterFixtures.json(#"{"user_id": "alice", "AND": [{"agent_id": {"eq": "travel"}}, {"run_id": "*"}]}"#))
        #expect(f.scopeTargets == .anyOf([MemoryScopes(userId: "alice", agentId: "travel")]))
        let or = try MemoryFilter.parse(FilterFixtures.json(#"{"OR": [{"user_id": "alice"}, {"user_id": "bob"}]}"#))
        #expect(or.scopeTargets == .anyOf([MemoryScopes(userId: "alice"), MemoryScopes(userId: "bob")]))
        let not = try MemoryFilter.parse(FilterFixtures.json(#"{"NOT": {"user_id": "alice"}, "app_id": "shop"}"#))
        #expect(not.scopeTargets == .anyOf([MemoryScopes(appId: "shop")]))
        #expect(MemoryFilter.all.scopeTargets == .unscoped)
    }

    @Test("null filter and MemoryFilter.all match everything")
    func all() throws {
        #expect(FilterFixtures.matching(.all) == "abcd")
        #expect(FilterFixtures.matching(try MemoryFilter.parse(.null)) == "abcd")
        #expect(MemoryFilter.all.isAll)
    }
}
