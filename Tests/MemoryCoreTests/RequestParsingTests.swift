import Foundation
import Testing
import MemoryStorage
@testable import MemoryCore

@Suite struct RequestParsingTests {
    static let badAdds: [(String, String)] = [
        (#"[]"#, "invalid_body"),
        (#"{"user_id":"a"}"#, "missing_messages"),
        (#"{"messages":[],"user_id":"a"}"#, "missing_messages"),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "missing_entity_id"),
        (#"{"messages":[{"role":"user","content":"x"}],"user_id":""}"#, "invalid_field"),
        (#"{"messages":[{"role":"user","content":"x"}],"user_id":42}"#, "invalid_field"),
        (#"{"messages":[{"role":"robot","content":"x"}],"user_id":"a"}"#, "invalid_field"),
        (#"{"messages":[{"role":"user"}],"user_id":"a"}"#, "invalid_field"),
        (#"{"messages":"hi","user_id":"a","metadata":"x"}"#, "invalid_field"),
        (#"{"messages":"hi","user_id":"a","infer":"maybe"}"#, "invalid_field"),
        (#"{"messages":"hi","user_id":"a","expiration_date":"tomorrow"}"#, "invalid_field"),
        (#"{"messages":"hi","user_id":"a\u0000b"}"#, "invalid_field"),
    ]

    @Test(arguments: badAdds)
    func badAddBodiesAreRejectedWithTheFieldNamed(_ body: String, _ code: String) {
        #expect(throws: MemoryServiceError.self) { _ = try AddRequest(json: json(body)) }
        do { _ = try AddRequest(json: json(body)) } catch { #expect(error.code == code, "\(body)") }
    }

    static let badSearches: [String] = [
        #"{"filters":{"user_id":"a"}}"#,
        #"{"query":"   ","filters":{"user_id":"a"}}"#,
        #"{"query":"x","top_k":0}"#,
        #"{"query":"x","top_k":"ten"}"#,
        #"{"query":"x","threshold":2}"#,
        #"{"query":"x","filters":[]}"#,
        #"{"query":"x","search_mode":"psychic"}"#,
    ]

    @Test(arguments: badSearches)
    func badSearchBodiesAreRejected(_ body: String) {
        #expect(throws: MemoryServiceError.self) { _ = try SearchRequest(json: json(body)) }
    }

    @Test func listPrefersQueryPagingAndFoldsTopLevelScopes() throws {
        let r = try ListRequest(json: json(#"{"user_id":"alice","page":5,"page_size":2}"#), query: ["page": "2"])
        #expect(r.page == 2 && r.pageSize == 2)
        #expect(r.filter.scopeTargets == .anyOf([MemoryScopes(userId: "alice")]))
        #expect(throws: MemoryServiceError.self) { _ = try ListRequest(json: json("{}"), query: ["page_size": "100000"]) }
    }

    @Test func scopeTargetsLookInsideAndAndCombineInLists() throws {
        let f = try MemoryFilter.parse(json(#"{"AND":[{"agent_id":"bot"},{"user_id":{"eq":"u"}}],"run_id":{"in":["r"]}}"#))
        #expect(f.scopeTargets == .anyOf([MemoryScopes(userId: "u", agentId: "bot", runId: "r")]))
    }

    @Test func scopeTargetsOfOrsInListsWildcardsAndNegations() throws {
        func targets(_ s: String) throws -> ScopeTargets { try MemoryFilter.parse(json(s)).scopeTargets }
        #expect(try targets(#"{"OR":[{"user_id":"a"},{"user_id":"b"}]}"#)
                == .anyOf([MemoryScopes(userId: "a"), MemoryScopes(userId: "b")]))
        #expect(try targets(#"{"user_id":{"in":["a","b"]},"agent_id":"x"}"#)
                == .anyOf([MemoryScopes(userId: "a", agentId: "x"), MemoryScopes(userId: "b", agentId: "x")]))
        #expect(try targets(#"{"OR":[{"user_id":"a"},{"ticket_id":"T"}]}"#) == .unscoped, "one branch unpinned")
        #expect(try targets(#"{"NOT":{"user_id":"a"}}"#) == .unscoped)
        #expect(try targets(#"{"user_id":"*"}"#) == .everything)
        #expect(try targets(#"{"user_id":"*","run_id":"r"}"#) == .anyOf([MemoryScopes(runId: "r")]))
        #expect(try targets(#"{"AND":[{"user_id":"a"},{"user_id":"b"}]}"#) == .anyOf([]), "no memory has two users")
        #expect(try targets(#"{"session_id":"s"}"#) == .anyOf([MemoryScopes(runId: "s")]))
    }

    @Test func updateNeedsSomethingToChangeAndDistinguishesClearingExpiry() throws {
        #expect(throws: MemoryServiceError.self) { _ = try UpdateRequest(json: json("{}")) }
        #expect(try UpdateRequest(json: json(#"{"expiration_date":null}"#)).expiration == .clear)
        #expect(try UpdateRequest(json: json(#"{"text":"x"}"#)).expiration == .unchanged)
    }

    @Test(arguments: ["2026-11-25", "2026-11-25T10:00:00Z", "2026-11-25T10:00:00.123Z", "2026-11-25T10:00:00+02:00", "2026-11-25T10:00:00"])
    func isoDatesParse(_ s: String) {
        #expect(ISODates.parse(s) != nil)
    }

    @Test(arguments: ["2026-13-01", "2026-02-30", "yesterday", ""])
    func invalidDatesDoNotParse(_ s: String) {
        #expect(ISODates.parse(s) == nil)
    }
}
