import Foundation
import JSONModel
import Testing
import MemoryStorage
@testable import MemoryCore

/// Agent-, app- and run-wide reads and deletes across user partitions (the scope directory fan-out), as the
/// Mem0 platform answers them.
@Suite struct ScopeFanOutTests {
    /// Adds one verbatim memory with these top-level fields; returns its id.
    @discardableResult
    func add(_ f: ServiceFixture, _ text: String, _ scopes: [String: String], tenant: String = "acme") async throws -> String {
        var body: [String: JSONValue] = ["messages": .array([.object(["role": .string("user"), "content": .string(text)])]),
                                         "infer": .bool(false)]
        for (k, v) in scopes { body[k] = .string(v) }
        let answer = try await f.service.add(try AddRequest(json: .object(body)), f.context(tenant))
        return try #require(answer.ids.first)
    }

    func list(_ f: ServiceFixture, _ filters: String, page: Int = 1, pageSize: Int = 100,
              _ context: RequestContext? = nil) async throws -> MemoryPage {
        try await f.service.list(try ListRequest(json: json(#"{"filters":\#(filters),"page":\#(page),"page_size":\#(pageSize)}"#)),
                                 context ?? f.context())
    }

    func texts(_ answer: MemoryPage) -> [String] {
        answer.texts.sorted()
    }

    /// u1 and u2 with agent A, agent A alone, u3 with agent B and run r1, u1 without agent.
    func seed(_ f: ServiceFixture) async throws {
        try await add(f, "u1 likes tea, told to A", ["user_id": "u1", "agent_id": "A", "run_id": "r1"])
        try await add(f, "u2 likes coffee, told to A", ["user_id": "u2", "agent_id": "A", "app_id": "shop"])
        try await add(f, "A keeps its own notes", ["agent_id": "A"])
        try await add(f, "u3 likes juice, told to B", ["user_id": "u3", "agent_id": "B", "run_id": "r1"])
        try await add(f, "u1 private note", ["user_id": "u1"])
    }

    @Test func agentWideSearchListAndExportReachEveryUserPartition() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        let all = try await list(f, #"{"agent_id":"A"}"#)
        #expect(texts(all) == ["A keeps its own notes", "u1 likes tea, told to A", "u2 likes coffee, told to A"])
        #expect(all.count == 3)
        let found = try await f.service.search(
            try SearchRequest(json: json(#"{"query":"likes coffee","filters":{"agent_id":"A"},"threshold":0}"#)), f.context())
        let hits = found.hits
        #expect(hits.first?.memory.text == "u2 likes coffee, told to A")
        #expect(Set(hits.compactMap(\.memory.scopes.agentId)) == ["A"])
        #expect(hits.count == 3)
        let scores = hits.map(\.score)
        #expect(scores == scores.sorted(by: >), "merged by fused score")
        let export = try await f.service.getExport(json(#"{"filters":{"agent_id":"A"}}"#), f.context())
        #expect(export.texts.count == 3)
        // The filter applies whole in each partition.
        #expect(texts(try await list(f, #"{"agent_id":"A","app_id":"shop"}"#)) == ["u2 likes coffee, told to A"])
        #expect(texts(try await list(f, #"{"AND":[{"agent_id":"A"},{"NOT":{"user_id":"u1"}}]}"#))
                == ["A keeps its own notes", "u2 likes coffee, told to A"])
    }

    @Test func runAndAppWideListsFindMemoriesWhateverTheirOwner() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        #expect(texts(try await list(f, #"{"run_id":"r1"}"#)) == ["u1 likes tea, told to A", "u3 likes juice, told to B"])
        #expect(texts(try await list(f, #"{"app_id":"shop"}"#)) == ["u2 likes coffee, told to A"])
        #expect(texts(try await list(f, #"{"run_id":"r1","agent_id":"B"}"#)) == ["u3 likes juice, told to B"])
        #expect(try await list(f, #"{"run_id":"r-unknown"}"#).count == 0)
    }

    @Test func fanOutListPaginatesInOneStableOrderWithTheTotalCount() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        for u in 0..<4 {
            for i in 0..<3 { try await add(f, "fact \(i) of user \(u)", ["user_id": "user\(u)", "agent_id": "pager"]) }
        }
        var seen: [String] = []
        for page in 1...3 {
            let answer = try await list(f, #"{"agent_id":"pager"}"#, page: page, pageSize: 5)
            #expect(answer.count == 12)
            let ids = answer.items.map { $0.id.uuidString }
            #expect(ids.count == (page < 3 ? 5 : 2))
            #expect(answer.hasNext == (page < 3))
            seen += ids
        }
        #expect(Set(seen).count == 12, "every memory on exactly one page")
        let again = try await list(f, #"{"agent_id":"pager"}"#, page: 1, pageSize: 12)
        #expect(again.items.map { $0.id.uuidString } == seen, "the same order every time")
    }

    @Test func orAndInListsOfUsersReadEachUser() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        let or = try await list(f, #"{"OR":[{"user_id":"u1"},{"user_id":"u3"}]}"#)
        #expect(texts(or) == ["u1 likes tea, told to A", "u1 private note", "u3 likes juice, told to B"])
        let inList = try await list(f, #"{"user_id":{"in":["u2","u3"]}}"#)
        #expect(texts(inList) == ["u2 likes coffee, told to A", "u3 likes juice, told to B"])
        let found = try await f.service.search(
            try SearchRequest(json: json(#"{"query":"likes","filters":{"OR":[{"user_id":"u1"},{"user_id":"u2"}]},"threshold":0}"#)),
            f.context())
        #expect(Set(found.hits.compactMap(\.memory.scopes.userId)) == ["u1", "u2"])
    }

    @Test func deleteAllByAgentOrRunErasesAcrossPartitionsWithTheExactCount() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        let byRun = try await f.service.deleteAll(scopes: MemoryScopes(runId: "r1"), f.context())
        #expect(byRun == .memories(2))
        let byAgent = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "A"), f.context())
        #expect(byAgent == .memories(2), "u1's A memory already went with run r1")
        #expect(try await list(f, #"{"agent_id":"A"}"#).count == 0)
        #expect(texts(try await list(f, #"{"user_id":"u1"}"#)) == ["u1 private note"], "memories without the id stay")
        let repeated = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "A"), f.context())
        #expect(repeated == .memories(0))
    }

    @Test func anAgentWideDeleteThatFailsHalfwayIsFinishedByRepeatingIt() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        // u2's partition becomes unreadable: the delete fails there (503) after erasing elsewhere what it could.
        let u2 = PartitionKey(tenant: "acme", owner: PartitionOwner(kind: .user, id: "u2"))
        let manifest = u2.prefix + "manifest.json"
        let original = try await f.service.store.blobs.get(manifest).data
        try await f.service.store.blobs.put(manifest, data: Data("not json".utf8), condition: .none)
        let failed = await serviceError { _ = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "A"), f.context()) }
        #expect(failed?.code == "storage_corrupt")
        try await f.service.store.blobs.put(manifest, data: original, condition: .none)
        let repeated = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "A"), f.context())
        #expect([Deletion.memories(1), .memories(2), .memories(3)].contains(repeated), "the repeat erases what the failed request left")
        #expect(try await list(f, #"{"agent_id":"A"}"#).count == 0)
        #expect(texts(try await list(f, #"{"user_id":"u1"}"#)) == ["u1 private note"])
    }

    @Test func deletingAnAgentEntityErasesItsMemoriesInUserPartitions() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        let out = try await f.service.deleteEntity(type: "agent", id: "A", f.context())
        #expect(out == .entity(3))
        #expect(try await list(f, #"{"agent_id":"A"}"#).count == 0)
        #expect(try await list(f, #"{"user_id":"u2"}"#).count == 0)
        #expect(try await list(f, #"{"user_id":"u3"}"#).count == 1)
        let missing = await serviceError { _ = try await f.service.deleteEntity(type: "agent", id: "never-seen", f.context()) }
        #expect(missing?.code == "entity_not_found")
    }

    @Test func entitiesListAgentsAppsAndRunsThatOnlyLiveInUserPartitions() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        let answer = try await f.service.entities(f.context())
        var counts: [String: Int] = [:]
        for e in answer.entities { counts["\(e.kind.rawValue)/\(e.id)"] = e.memoryCount }
        #expect(counts == ["user/u1": 2, "user/u2": 1, "user/u3": 1, "agent/A": 3, "agent/B": 1, "app/shop": 1, "run/r1": 2])
        #expect(answer.count(of: .agent) == 2)
        #expect(answer.count(of: .run) == 1)
        #expect(answer.count(of: .user) == 3)
    }

    @Test func anyUserWildcardIsForAdminsAndBounded() async throws {
        var options = MemoryServiceOptions()
        options.maxFanOutPartitions = 3
        let f = try ServiceFixture(options: options); defer { f.cleanUp() }
        try await seed(f)
        let denied = await serviceError { _ = try await list(f, #"{"user_id":"*"}"#) }
        #expect(denied?.kind == .forbidden)
        #expect(denied?.code == "wildcard_needs_admin")
        var admin = f.context()
        admin.isAdmin = true
        let tooMany = await serviceError { _ = try await list(f, #"{"user_id":"*"}"#, admin) }
        #expect(tooMany?.code == "too_many_partitions", "4 partitions (u1, u2, u3, agent A) exceed the bound of 3")
        #expect(tooMany?.detail.contains("4") == true)
        // `*` next to a pinned id is not tenant-wide: no admin needed.
        #expect(texts(try await list(f, #"{"user_id":"*","agent_id":"A"}"#)) == ["u1 likes tea, told to A", "u2 likes coffee, told to A"])
    }

    @Test func anyUserWildcardReadsEveryPartitionForAnAdmin() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        var admin = f.context()
        admin.isAdmin = true
        let every = try await list(f, #"{"user_id":"*"}"#, admin)
        #expect(every.count == 4, "every memory with a user, in every partition")
    }

    @Test func fanOutStaysInsideTheTenant() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await seed(f)
        try await add(f, "other tenant's A memory", ["user_id": "u1", "agent_id": "A"], tenant: "other")
        #expect(try await list(f, #"{"agent_id":"A"}"#).count == 3)
        #expect(texts(try await list(f, #"{"agent_id":"A"}"#, f.context("other"))) == ["other tenant's A memory"])
        let erased = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "A"), f.context("other"))
        #expect(erased == .memories(1))
        #expect(try await list(f, #"{"agent_id":"A"}"#).count == 3)
    }

    @Test func addTakesScopeIdsFromFilters() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let body = json(#"{"messages":[{"role":"user","content":"from a framework"}],"infer":false,"filters":{"user_id":"u9","agent_id":{"eq":"crew"}}}"#)
        let answer = try await f.service.add(try AddRequest(json: body), f.context())
        let id = try parseMemoryId(try #require(answer.ids.first))
        let item = try await f.service.get(id, f.context())
        #expect(item.scopes.userId == "u9")
        #expect(item.scopes.agentId == "crew")
        #expect(texts(try await list(f, #"{"agent_id":"crew"}"#)) == ["from a framework"])
        // The same id at the top level and in filters agrees: fine.
        _ = try AddRequest(json: json(#"{"messages":"x","user_id":"u9","filters":{"AND":[{"user_id":"u9"}]}}"#))
    }

    @Test func addRejectsConflictingOperatorAndWildcardScopeIds() {
        func code(_ body: String) -> String? {
            do { _ = try AddRequest(json: json(body)); return nil } catch { return error.code }
        }
        #expect(code(#"{"messages":"x","user_id":"a","filters":{"user_id":"b"}}"#) == "conflicting_entity_id")
        #expect(code(#"{"messages":"x","filters":{"AND":[{"agent_id":"a"},{"agent_id":"b"}]}}"#) == "conflicting_entity_id")
        #expect(code(#"{"messages":"x","filters":{"user_id":{"in":["a"]}}}"#) == "invalid_filters")
        #expect(code(#"{"messages":"x","filters":{"user_id":"a","ticket_id":"T"}}"#) == "invalid_filters")
        #expect(code(#"{"messages":"x","filters":{"OR":[{"user_id":"a"}]}}"#) == "invalid_filters")
        #expect(code(#"{"messages":"x","user_id":"*"}"#) == "invalid_field")
        #expect(code(#"{"messages":"x","filters":{}}"#) == "missing_entity_id")
        do {
            _ = try AddRequest(json: json(#"{"messages":"x","user_id":"a","filters":{"user_id":"b"}}"#))
        } catch {
            #expect(error.detail.contains("'a'") && error.detail.contains("'b'"), "names both values: \(error.detail)")
        }
    }
}
