import Foundation
import Testing
import MemoryStorage
import ModelClients
@testable import MemoryCore

/// The wire shapes ``ResponseEncoding`` makes from domain values: the Mem0 field names, `null` versus absent,
/// numbers as JSON doubles.
@Suite struct ResponseEncodingTests {
    static let id = UUID(uuidString: "0A0B0C0D-0000-4000-8000-000000000001")!
    static let memory = StoredMemory(
        id: id, text: "likes tea", hash: "h", scopes: MemoryScopes(userId: "u", runId: "r"), metadata: .null,
        categories: ["food"], createdAt: Date(timeIntervalSince1970: 1_700_000_000),
        updatedAt: Date(timeIntervalSince1970: 1_700_000_100), expirationDate: nil, embedding: [1, 0])

    @Test func aMemoryItemHasEveryFieldWithNullsForWhatItLacks() {
        let item = ResponseEncoding.json(Self.memory)
        #expect(Set(item.objectValue?.keys.map { $0 } ?? []) == [
            "id", "memory", "hash", "metadata", "categories", "user_id", "agent_id", "app_id", "run_id", "session_id",
            "created_at", "updated_at", "expiration_date",
        ])
        #expect(item["id"] == .string("0a0b0c0d-0000-4000-8000-000000000001"))
        #expect(item["agent_id"] == .null)
        #expect(item["expiration_date"] == .null)
        #expect(item["session_id"] == .string("r"))
        #expect(item["created_at"] == .string("2023-11-14T22:13:20.000Z"))
    }

    @Test func aPageLinksToItsNeighboursOnlyWhenTheyExist() {
        let middle = ResponseEncoding.json(MemoryPage(items: [Self.memory], count: 7, page: 2, pageSize: 3))
        #expect(middle["count"] == .number(7))
        #expect(middle["next"] == .string("/v3/memories/?page=3&page_size=3"))
        #expect(middle["previous"] == .string("/v3/memories/?page=1&page_size=3"))
        #expect(middle["results"]?.arrayValue?.count == 1)
        let last = ResponseEncoding.json(MemoryPage(items: [], count: 7, page: 3, pageSize: 3))
        #expect(last["next"] == .null)
        let first = ResponseEncoding.json(MemoryPage(items: [], count: 2, page: 1, pageSize: 3))
        #expect(first["previous"] == .null && first["next"] == .null)
    }

    @Test func anAddAnswerCarriesTypedEventsAndOnlyTheExtrasThatApply() {
        let verbatim = ResponseEncoding.json(AddOutcome(
            eventId: Self.id, events: [MemoryEvent(id: Self.id, text: "likes tea", kind: .add)], storedVerbatim: true))
        #expect(verbatim["status"] == .string("SUCCEEDED"))
        #expect(verbatim["results"]?.arrayValue?.first?["event"] == .string("ADD"))
        #expect(verbatim["results"]?.arrayValue?.first?["data"]?["memory"] == .string("likes tea"))
        #expect(verbatim["message"] != nil)
        #expect(verbatim["usage"] == nil)
        let inferred = ResponseEncoding.json(AddOutcome(
            eventId: Self.id, events: [MemoryEvent(id: Self.id, text: "x", kind: .delete)],
            usage: TokenUsage(promptTokens: 3, completionTokens: 4)))
        #expect(inferred["message"] == nil)
        #expect(inferred["results"]?.arrayValue?.first?["event"] == .string("DELETE"))
        #expect(inferred["usage"] == json(#"{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}"#))
    }

    @Test func aReplayIsTheRecordedAnswerAndAnErasedOneQuotesNothing() {
        let recorded = json(#"{"status":"SUCCEEDED","results":[]}"#)
        #expect(ResponseEncoding.json(WriteAnswer<AddOutcome>.replayed(.answer(recorded))) == recorded)
        let erased = ResponseEncoding.json(WriteAnswer<Deletion>.replayed(.erased))
        #expect(erased.objectValue?.keys.sorted() == ["message"])
        #expect(ResponseEncoding.json(WriteAnswer<Deletion>.applied(.entity(4))) == json(#"{"message":"Entity deleted successfully!","deleted":4}"#))
    }

    @Test func searchHitsAddScoresAndExplainOnlyWhenAsked() {
        var hit = SearchHit(memory: Self.memory, score: 0.5, breakdown: ScoreBreakdown(semantic: 0.4, bm25: 0.2, recency: nil))
        let plain = ResponseEncoding.json(SearchResults(hits: [hit]))
        #expect(plain["memory_block"] == nil)
        #expect(plain["results"]?.arrayValue?.first?["score"] == .number(0.5))
        #expect(plain["results"]?.arrayValue?.first?["score_breakdown"] == json(#"{"semantic":0.4,"bm25":0.2}"#))
        #expect(plain["results"]?.arrayValue?.first?["explanation"] == nil)
        hit.explanation = SearchExplanation(cosine: nil, approximateCosine: nil, bm25Raw: 1, bm25Ideal: 2, matchedTerms: ["tea"],
                                            sources: ["keyword"], scoreBeforeRecency: 0.5, recencyFactor: 1, ageSeconds: 9)
        let explained = ResponseEncoding.json(SearchResults(hits: [hit], memoryBlock: "block"))
        #expect(explained["memory_block"] == .string("block"))
        let x = explained["results"]?.arrayValue?.first?["explanation"]
        #expect(x?["matched_terms"] == .array([.string("tea")]))
        #expect(x?["cosine"] == nil && x?["superseded_by"] == nil)
    }

    @Test func historyIdsAreStableAndAGoneMemoryNamesThePartitionsUser() {
        let entries = [HistoryEntry(memoryId: Self.id, event: .add, oldText: nil, newText: "likes tea", at: Date(timeIntervalSince1970: 0), eventId: Self.id),
                       HistoryEntry(memoryId: Self.id, event: .delete, oldText: nil, newText: nil, at: Date(timeIntervalSince1970: 1), eventId: Self.id)]
        let timeline = MemoryTimeline(entries: entries, owner: PartitionOwner(kind: .user, id: "alice"), current: nil)
        let once = ResponseEncoding.json(timeline), twice = ResponseEncoding.json(timeline)
        #expect(once == twice)
        let items = once.arrayValue ?? []
        #expect(items.count == 2 && items[0]["id"] != items[1]["id"])
        #expect(items.map { $0["event"] } == [.string("ADD"), .string("DELETE")])
        #expect(items[1]["user_id"] == .string("alice"))
        #expect(items[1]["metadata"] == .null)
    }

    @Test func entitiesCountEachKind() {
        let at = Date(timeIntervalSince1970: 0)
        let list = EntityList(tenant: "acme", entities: [
            EntitySummary(kind: .user, id: "u", memoryCount: 2, createdAt: at, updatedAt: at),
            EntitySummary(kind: .agent, id: "a", memoryCount: 1, createdAt: at, updatedAt: at),
        ])
        let wire = ResponseEncoding.json(list)
        #expect(wire["count"] == .number(2))
        #expect(wire["total_users"] == .number(1) && wire["total_agents"] == .number(1) && wire["total_runs"] == .number(0))
        #expect(wire["results"]?.arrayValue?.first?["owner"] == .string("acme"))
        #expect(wire["results"]?.arrayValue?.first?["total_memories"] == .number(2))
    }
}
