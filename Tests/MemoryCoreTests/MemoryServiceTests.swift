import Foundation
import Testing
import MemoryStorage
@testable import MemoryCore

@Suite struct MemoryServiceTests {
    @Test func addVerbatimStoresEveryNonSystemMessageAndGetReturnsIt() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let body = json(#"{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"I prefer dark mode"},{"role":"assistant","content":"Noted, dark mode it is"}],"user_id":"alice","agent_id":"helper","infer":false,"metadata":{"ticket_id":"T-1"}}"#)
        let answer = try await f.service.add(try AddRequest(json: body), f.context())
        let outcome = try #require(answer.applied)
        #expect(outcome.storedVerbatim)
        #expect(outcome.events.map(\.text) == ["I prefer dark mode", "Noted, dark mode it is"])
        #expect(outcome.events.allSatisfy { $0.kind == .add })
        let item = try await f.service.get(outcome.events[0].id, f.context())
        #expect(item.text == "I prefer dark mode")
        #expect(item.scopes.userId == "alice")
        #expect(item.scopes.agentId == "helper")
        #expect(item.metadata["ticket_id"]?.stringValue == "T-1")
        #expect(item.hash == MemoryService.md5Hex("I prefer dark mode"))
    }

    @Test func inferWithoutChatModelSuppressesExactAndNearDuplicates() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let first = try await f.add(["I live in Oslo"], infer: true)
        #expect(first.count == 1)
        let again = try await f.add(["I live in Oslo", "i live in oslo!", "My dog is called Rex"], infer: true)
        #expect(again.count == 1, "only the new fact is stored, got \(again)")
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.count == 2)
    }

    @Test func timestampBackdatesCreatedAt() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let ids = try await f.add(["old news"], extra: ["timestamp": .number(1_700_000_000)])
        let item = try await f.service.get(try parseMemoryId(ids[0]), f.context())
        #expect(item.createdAt == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func searchFindsTheClosestMemoryWithinTheUsersPartitionOnly() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await f.add(["I prefer dark mode in every editor", "my invoices should be monthly", "I have a cat named Tom"])
        try await f.add(["I prefer dark mode too"], user: "bob")
        let answer = try await f.service.search(
            try SearchRequest(json: json(#"{"query":"dark mode","filters":{"user_id":"alice"},"threshold":0}"#)), f.context())
        #expect(answer.texts.first == "I prefer dark mode in every editor")
        #expect(answer.hits.allSatisfy { $0.memory.scopes.userId == "alice" })
        #expect(answer.hits.first?.score ?? 0 > 0)
        #expect(answer.hits.first?.breakdown.semantic ?? 0 > 0)
    }

    @Test func searchAndListRequireAnEntityId() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let e1 = await serviceError { _ = try await f.service.search(try SearchRequest(json: json(#"{"query":"x","filters":{}}"#)), f.context()) }
        #expect(e1?.code == "missing_entity_id")
        let e2 = await serviceError { _ = try await f.service.list(try ListRequest(json: json(#"{"filters":{"ticket_id":"T"}}"#)), f.context()) }
        #expect(e2?.code == "missing_entity_id")
    }

    @Test func listPaginatesNewestFirstWithAStableOrder() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        for i in 0..<7 { try await f.add(["fact number \(i)"], extra: ["timestamp": .number(Double(1_700_000_000 + i))]) }
        var seen: [String] = []
        for page in 1...3 {
            let r = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#),
                                                             query: ["page": "\(page)", "page_size": "3"]), f.context())
            #expect(r.count == 7)
            seen += r.texts
            #expect(r.hasNext == (page < 3))
        }
        #expect(seen == (0..<7).reversed().map { "fact number \($0)" })
    }

    @Test func updateReembedsMergesMetadataRecordsHistoryAndClearsExpiry() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let ids = try await f.add(["prefers monthly invoices"], metadata: json(#"{"a":1,"b":2}"#),
                                  extra: ["expiration_date": .string("2099-01-01")])
        let id = try parseMemoryId(ids[0])
        let updated = try await f.service.update(
            id, try UpdateRequest(json: json(#"{"text":"prefers weekly invoices","metadata":{"b":null,"c":3},"expiration_date":null}"#)), f.context())
        let memory = try #require(updated.applied)
        #expect(memory.text == "prefers weekly invoices")
        #expect(memory.metadata == json(#"{"a":1,"c":3}"#))
        #expect(memory.expirationDate == nil)
        let history = try await f.service.history(id, f.context()).entries
        #expect(history.map(\.event) == [.add, .update])
        #expect(history[1].oldText == "prefers monthly invoices")
        #expect(history[1].newText == "prefers weekly invoices")
        let search = try await f.service.search(
            try SearchRequest(json: json(#"{"query":"weekly invoices","filters":{"user_id":"alice"},"threshold":0}"#)), f.context())
        #expect(search.texts.first == "prefers weekly invoices")
    }

    @Test func expiredMemoriesAreHiddenUnlessShowExpired() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await f.add(["temporary fact"], extra: ["expiration_date": .string("2020-01-01")])
        try await f.add(["lasting fact"])
        let hidden = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(hidden.texts == ["lasting fact"])
        let shown = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"},"show_expired":true}"#)), f.context())
        #expect(shown.count == 2)
        let search = try await f.service.search(try SearchRequest(json: json(#"{"query":"temporary fact","filters":{"user_id":"alice"},"threshold":0}"#)), f.context())
        #expect(!search.texts.contains("temporary fact"))
    }

    @Test func deleteErasesAndAnotherTenantCannotSeeOrTouchTheMemory() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let ids = try await f.add(["secret plan"])
        let id = try parseMemoryId(ids[0])
        for op in ["get", "update", "delete", "history"] {
            let e = await serviceError {
                switch op {
                case "get": _ = try await f.service.get(id, f.context("evil"))
                case "update": _ = try await f.service.update(id, UpdateRequest(text: "pwned"), f.context("evil"))
                case "delete": _ = try await f.service.delete(id, f.context("evil"))
                default: _ = try await f.service.history(id, f.context("evil"))
                }
            }
            #expect(e?.kind == .notFound, "\(op) from another tenant must be 404")
        }
        #expect(try await f.service.get(id, f.context()).text == "secret plan")
        _ = try await f.service.delete(id, f.context())
        #expect(await serviceError { _ = try await f.service.get(id, f.context()) }?.kind == .notFound)
        // The history keeps the events (as Mem0 does), not the text.
        let history = try await f.service.history(id, f.context())
        #expect(history.events == ["ADD", "DELETE"])
        #expect(history.entries.allSatisfy { $0.oldText == nil && $0.newText == nil })
        #expect(await serviceError { _ = try await f.service.history(id, f.context("evil")) }?.kind == .notFound)
    }

    @Test func idempotentAddReturnsTheFirstAnswerAndWritesOnce() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let request = try AddRequest(json: json(#"{"messages":[{"role":"user","content":"buy milk"}],"user_id":"alice","infer":false}"#))
        let first = try await f.service.add(request, f.context(key: "req-1"))
        let second = try await f.service.add(request, f.context(key: "req-1"))
        #expect(ResponseEncoding.json(first) == ResponseEncoding.json(second))
        #expect(second.applied == nil, "the second call is a replay")
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.count == 1)
        let third = try await f.service.add(request, f.context(key: "req-2"))
        #expect(third.ids.first != first.ids.first)
    }

    @Test func deleteAllAndDeleteEntityEraseOnlyTheNamedScope() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await f.add(["a1", "a2"], extra: ["agent_id": .string("bot")])
        try await f.add(["a3"])
        try await f.add(["b1"], user: "bob")
        let r = try await f.service.deleteAll(scopes: MemoryScopes(userId: "alice", agentId: "bot"), f.context())
        #expect(r == .memories(2))
        let left = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(left.texts == ["a3"])
        let entities = try await f.service.entities(f.context())
        #expect(entities.count(of: .user) == 2)
        _ = try await f.service.deleteEntity(type: "user", id: "bob", f.context())
        let after = try await f.service.entities(f.context())
        #expect(after.entities.map(\.id) == ["alice"])
        #expect(await serviceError { _ = try await f.service.deleteEntity(type: "planet", id: "x", f.context()) }?.code == "invalid_entity_type")
    }

    @Test func aWriteLargerThanOneAppendIsRefusedWithA400AndWritesNothing() async throws {
        let f = try ServiceFixture(maxAppendBlockBytes: 4096); defer { f.cleanUp() }
        try await f.add(["fits in one append"])
        let many = (0..<30).map { "message \($0) " + String(repeating: "x", count: 200) }
        let e = await serviceError { try await f.add(many) }
        #expect(e?.kind == .invalidRequest)
        #expect(e?.code == "batch_too_large")
        #expect(e?.detail.contains("nothing was written") == true)
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.count == 1)
    }

    @Test func deleteAllOfManyMemoriesTakesSeveralAppendsAndErasesThemAll() async throws {
        var options = MemoryServiceOptions()
        options.purgesPerAppend = 7
        let f = try ServiceFixture(options: options); defer { f.cleanUp() }
        for batch in 0..<5 { try await f.add((0..<10).map { "memory \(batch)-\($0)" }) }
        try await f.add(["bob's"], user: "bob")
        let r = try await f.service.deleteAll(scopes: MemoryScopes(userId: "alice"), f.context())
        #expect(r == .memories(50))
        let left = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(left.count == 0)
        let bob = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"bob"}}"#)), f.context())
        #expect(bob.count == 1)
    }

    @Test func batchUpdateAndDeleteAreAllOrNothingOnUnknownIds() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let ids = try await f.add(["one", "two"])
        let ghost = UUID().uuidString
        let bad = json(#"{"memories":[{"memory_id":"\#(ids[0])","text":"uno"},{"memory_id":"\#(ghost)","text":"x"}]}"#)
        #expect(await serviceError { _ = try await f.service.batchUpdate(bad, f.context()) }?.kind == .notFound)
        #expect(try await f.service.get(try parseMemoryId(ids[0]), f.context()).text == "one")
        let good = json(#"{"memories":[{"memory_id":"\#(ids[0])","text":"uno"},{"memory_id":"\#(ids[1])","metadata":{"k":"v"}}]}"#)
        _ = try await f.service.batchUpdate(good, f.context())
        #expect(try await f.service.get(try parseMemoryId(ids[0]), f.context()).text == "uno")
        #expect(try await f.service.get(try parseMemoryId(ids[1]), f.context()).metadata["k"]?.stringValue == "v")
        _ = try await f.service.batchDelete(json(#"{"memories":[{"memory_id":"\#(ids[0])"},{"memory_id":"\#(ids[1])"}]}"#), f.context())
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.count == 0)
        #expect(await serviceError { _ = try await f.service.batchDelete(json(#"{"memories":[]}"#), f.context()) }?.code == "invalid_batch_size")
    }

    @Test func exportsAreStoredPerTenantAndReturnTheMatchingMemories() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await f.add(["exported fact"], metadata: json(#"{"project_id":"P1"}"#))
        try await f.add(["other fact"], metadata: json(#"{"project_id":"P2"}"#))
        let created = try await f.service.createExport(json(#"{"schema":{"type":"object"},"filters":{"AND":[{"user_id":"alice"},{"project_id":"P1"}]}}"#), f.context())
        let id = try #require(created.id.uuidString)
        let export = try await f.service.getExport(.object(["memory_export_id": .string(id)]), f.context())
        #expect(export.texts == ["exported fact"])
        #expect(await serviceError { _ = try await f.service.getExport(.object(["memory_export_id": .string(id)]), f.context("evil")) }?.kind == .notFound)
    }

    @Test func compactionKeepsEveryLiveMemory() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let ids = try await f.add(["keep me", "drop me"])
        _ = try await f.service.delete(try parseMemoryId(ids[1]), f.context())
        let summary = await f.service.compactAll(tenant: "acme")
        #expect(summary.failed == 0)
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.texts == ["keep me"])
    }
}
