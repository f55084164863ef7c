import Foundation
import MemoryStorage
import Testing
@testable import MemoryCore

/// Table-driven tests of Mem0's filter grammar over the four fixture memories (see `FilterFixtures`).
@Suite("Filter grammar")
struct FilterGrammarTests {
    /// (filter JSON, names of the memories it must match).
    static let cases: [(String, String)] = [
        // Scope equality, bare and with operators, and "*".
        (#"{"user_id": "alice"}"#, "ab"),
        (#"{"user_id": {"eq": "alice"}}"#, "ab"),
        (#"{"user_id": {"ne": "alice"}}"#, "cd"),
        (#"{"user_id": {"in": ["bob", "carol"]}}"#, "c"),
        (#"{"user_id": {"nin": ["bob"]}}"#, "abd"),
        (#"{"user_id": "*"}"#, "abc"),
        (#"{"agent_id": "*"}"#, "abd"),
        (#"{"app_id": "shop"}"#, "c"),
        (#"{"run_id": "r1"}"#, "a"),
        (#"{"session_id": "r2"}"#, "d"),
        (#"{"agent_id": {"contains": "ave"}}"#, "ad"),
        (#"{"agent_id": {"icontains": "SUPP"}}"#, "b"),
        (#"{"user_id": {"gt": "alice"}}"#, "c"),
        (#"{"user_id": {"gte": "alice"}}"#, "abc"),
        (#"{"user_id": {"lt": "bob"}}"#, "ab"),
        (#"{"user_id": {"lte": "bob"}}"#, "abc"),
        (#"{"user_id": null}"#, "d"),
        (#"{"user_id": {"ne": null}}"#, "abc"),
        (#"{"user_id": 42}"#, ""),                                  // type mismatch: no match
        (#"{"user_id": {"gt": 42}}"#, ""),
        // Implicit AND of siblings, explicit AND / OR / NOT, nesting.
        (#"{"user_id": "alice", "agent_id": "travel"}"#, "a"),
        (#"{"AND": [{"user_id": "alice"}, {"agent_id": "support"}]}"#, "b"),
        (#"{"OR": [{"user_id": "bob"}, {"run_id": "r2"}]}"#, "cd"),
        (#"{"NOT": {"user_id": "alice"}}"#, "cd"),
        (#"{"NOT": [{"user_id": "alice"}]}"#, "cd"),
        (#"{"NOT": [{"user_id": "bob"}, {"agent_id": "support"}]}"#, "ad"),
        (#"{"AND": [{"user_id": "alice"}, {"NOT": {"categories": {"in": ["finance"]}}}]}"#, "a"),
        (#"{"OR": [{"AND": [{"user_id": "alice"}, {"metadata": {"priority": {"gte": 2}}}]}, {"app_id": "shop"}]}"#, "ac"),
        (#"{"AND": []}"#, "abcd"),
        (#"{"OR": []}"#, ""),
        (#"{"AND": {"user_id": "bob"}}"#, "c"),
        (#"{}"#, "abcd"),
        (#"{"NOT": {"NOT": {"user_id": "bob"}}}"#, "c"),
        // Dates: a day names the whole UTC day; a date-time names its second (or millisecond).
        (#"{"created_at": "2026-11-20"}"#, "a"),
        (#"{"created_at": {"eq": "2026-11-19"}}"#, "b"),
        (#"{"created_at": {"gte": "2026-11-20"}}"#, "a"),
        (#"{"created_at": {"gt": "2026-11-19"}}"#, "a"),
        (#"{"created_at": {"lte": "2026-11-19"}}"#, "bcd"),
        (#"{"created_at": {"lt": "2026-11-20"}}"#, "bcd"),
        (#"{"created_at": {"gte": "2026-11-01", "lte": "2026-11-30"}}"#, "ab"),
        (#"{"created_at": {"gt": "2026-11-19T23:59:59Z"}}"#, "a"),
        (#"{"created_at": {"gte": "2026-11-19T23:59:59Z"}}"#, "ab"),
        (#"{"created_at": {"eq": "2026-11-20T10:30:00Z"}}"#, "a"),
        (#"{"created_at": {"eq": "2026-11-20T11:30:00+01:00"}}"#, "a"),
        (#"{"created_at": {"eq": "2026-11-20T10:30:00.000Z"}}"#, "a"),
        (#"{"created_at": {"lt": "2026-11-20T10:30:00.001Z"}}"#, "abcd"),
        (#"{"created_at": {"ne": "2026-11-20"}}"#, "bcd"),
        (#"{"created_at": {"in": ["2026-10-01", "2025-01-01"]}}"#, "cd"),
        (#"{"created_at": {"nin": ["2026-10-01", "2025-01-01"]}}"#, "ab"),
        (#"{"created_at": {"gte": 1793491200}}"#, "ab"),          // 2026-11-01 as Unix epoch seconds
        (#"{"created_at": {"lt": 1793491200.5}}"#, "cd"),
        (#"{"timestamp": {"lt": "2026-01-01"}}"#, "d"),
        (#"{"updated_at": {"gt": "2026-11-22T11:59:59Z"}}"#, "c"),
        (#"{"updated_at": {"gt": "2026-11-22T12:00:00Z"}}"#, ""),   // 12:00:00.5 is inside that second
        (#"{"updated_at": {"gt": "2026-11-22T12:00:00.500Z"}}"#, ""),
        (#"{"updated_at": {"eq": "2026-11-22T12:00:00.500Z"}}"#, "c"),
        (#"{"updated_at": {"eq": "2026-11-22T12:00:00Z"}}"#, "c"),
        (#"{"created_at": "*"}"#, "abcd"),
        (#"{"expiration_date": "*"}"#, "b"),
        (#"{"expiration_date": null}"#, "acd"),
        (#"{"expiration_date": {"lte": "2026-12-01"}}"#, "b"),
        (#"{"expiration_date": {"ne": "2026-12-01"}}"#, "acd"),
        // Categories: equality and in are membership, contains is a substring of a category.
        (#"{"categories": "finance"}"#, "b"),
        (#"{"categories": {"in": ["finance", "travel"]}}"#, "ab"),
        (#"{"categories": {"nin": ["finance", "travel"]}}"#, "cd"),
        (#"{"categories": {"contains": "finance"}}"#, "bd"),
        (#"{"categories": {"icontains": "FOOD"}}"#, "a"),
        (#"{"categories": {"ne": "finance"}}"#, "acd"),
        (#"{"categories": "*"}"#, "abd"),
        (#"{"categories": {"gt": "p"}}"#, "ad"),
        // Metadata: top-level keys and nested under "metadata".
        (#"{"ticket_id": "T-1"}"#, "a"),
        (#"{"metadata": {"ticket_id": "T-2"}}"#, "b"),
        (#"{"metadata": {"ticket_id": {"in": ["T-1", "T-2"]}}}"#, "ab"),
        (#"{"metadata": {"ticket_id": {"nin": ["T-1"]}}}"#, "bcd"),
        (#"{"ticket_id": {"ne": "T-1"}}"#, "bcd"),
        (#"{"priority": {"gt": 1}}"#, "a"),
        (#"{"priority": {"gte": 1}}"#, "ab"),
        (#"{"priority": {"lt": 3}}"#, "b"),
        (#"{"priority": {"lte": 3}}"#, "ab"),
        (#"{"priority": 3}"#, "a"),
        (#"{"priority": 3.0}"#, "a"),
        (#"{"priority": "3"}"#, ""),                               // string vs number: no match
        (#"{"priority": "high"}"#, "d"),
        (#"{"priority": {"gt": "a"}}"#, "d"),                       // only d's priority is a string
        (#"{"priority": {"in": [1, "high"]}}"#, "bd"),
        (#"{"score": {"gt": 2}}"#, "d"),
        (#"{"vip": true}"#, "a"),
        (#"{"vip": false}"#, "b"),
        (#"{"vip": {"gt": false}}"#, ""),                           // bools have no order: no match
        (#"{"tags": "red"}"#, "a"),
        (#"{"tags": {"contains": "ree"}}"#, "b"),
        (#"{"tags": {"in": ["blue", "green"]}}"#, "ab"),
        (#"{"tags": ["red", "blue"]}"#, "a"),
        (#"{"tags": {"icontains": "BL"}}"#, "a"),
        (#"{"ticket_id": {"contains": "T-"}}"#, "ab"),
        (#"{"ticket_id": {"icontains": "t-2"}}"#, "b"),
        (#"{"ticket_id": "*"}"#, "ab"),
        (#"{"metadata": {"ticket_id": "*"}}"#, "ab"),
        (#"{"metadata": "*"}"#, "abd"),
        (#"{"nested": {"eq": {"city": "Paris"}}}"#, "d"),
        (#"{"due": {"gte": "2026-11-25"}}"#, "b"),                  // strings that are both dates compare as instants
        (#"{"due": {"lt": "2026-11-20T12:00:00Z"}}"#, "a"),
        (#"{"missing_key": {"ne": "x"}}"#, "abcd"),
        (#"{"missing_key": "x"}"#, ""),
        (#"{"ticket_id": {"gt": 5}}"#, ""),
        // Text and id.
        (#"{"keywords": "peanut"}"#, "b"),
        (#"{"keywords": {"icontains": "WEEKLY"}}"#, "a"),
        (#"{"memory": {"contains": "Berlin"}}"#, "c"),
        (#"{"memory": {"contains": "berlin"}}"#, ""),
        (#"{"text": {"icontains": "メモ"}}"#, "d"),
        (#"{"id": "00000000-0000-0000-0000-00000000000a"}"#, "a"),
        (#"{"memory_ids": ["00000000-0000-0000-0000-00000000000B", "00000000-0000-0000-0000-00000000000c"]}"#, "bc"),
        (#"{"id": {"nin": ["00000000-0000-0000-0000-00000000000a"]}}"#, "bcd"),
    ]

    @Test("each filter matches exactly the expected memories", arguments: cases)
    func matchesExpected(filter: String, expected: String) throws {
        let parsed = try MemoryFilter.parse(FilterFixtures.json(filter))
        #expect(FilterFixtures.matching(parsed) == expected, "filter \(filter)")
    }

    @Test("ne is the complement of eq, nin of in, for every field kind")
    func negationsComplement() throws {
        let pairs: [(String, String)] = [
            (#"{"user_id": "alice"}"#, #"{"user_id": {"ne": "alice"}}"#),
            (#"{"priority": 3}"#, #"{"priority": {"ne": 3}}"#),
            (#"{"categories": {"in": ["finance"]}}"#, #"{"categories": {"nin": ["finance"]}}"#),
            (#"{"created_at": {"in": ["2026-11-20"]}}"#, #"{"created_at": {"nin": ["2026-11-20"]}}"#),
            (#"{"tags": "red"}"#, #"{"tags": {"ne": "red"}}"#),
        ]
        for (positive, negative) in pairs {
            let p = FilterFixtures.matching(try MemoryFilter.parse(FilterFixtures.json(positive)))
            let n = FilterFixtures.matching(try MemoryFilter.parse(FilterFixtures.json(negative)))
            #expect(Set(p).union(Set(n)) == Set("abcd") && Set(p).isDisjoint(with: Set(n)), "\(positive) vs \(negative)")
        }
    }
}
