import Foundation
import JSONModel
import Testing
import MemoryStorage
@testable import MemoryCore

/// Erasure reaches every copy; retries are honest; hostile input is refused before it is written.
@Suite struct IntegrityTests {
    static func noGrace() -> PartitionStoreOptions {
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = 0
        return o
    }

    /// Every file under the store's folder that contains `needle` (bytes), relative to the root.
    static func filesContaining(_ needle: String, under root: URL) -> [String] {
        let bytes = Data(needle.utf8)
        var found: [String] = []
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            if data.range(of: bytes) != nil { found.append(String(url.path.dropFirst(root.path.count))) }
        }
        return found
    }

    @Test func deletingAUserLeavesNoByteOfItsTextAfterOneCompactionCycle() async throws {
        let f = try ServiceFixture(storeOptions: Self.noGrace()); defer { f.cleanUp() }
        let original = "my passport number is X-ORIGINAL-4711"
        let changed = "my passport number is X-UPDATED-4712"
        let add = try await f.service.add(try AddRequest(json: json(#"{"messages":[{"role":"user","content":"\#(original)"}],"user_id":"erin","infer":false}"#)),
                                          f.context(key: "add-key-1"))
        let id = try parseMemoryId(try #require(add.ids.first))
        _ = try await f.service.update(id, try UpdateRequest(json: json(#"{"text":"\#(changed)"}"#)), f.context(key: "upd-key-1"))
        let export = try await f.service.createExport(json(#"{"schema":{},"filters":{"user_id":"erin"}}"#), f.context())
        let exportId = try #require(export.id.uuidString)
        let stored = try await f.service.getExport(.object(["memory_export_id": .string(exportId)]), f.context())
        #expect(stored.texts.first == changed)
        #expect(!Self.filesContaining("X-ORIGINAL-4711", under: f.root).isEmpty)

        _ = try await f.service.deleteAll(scopes: MemoryScopes(userId: "erin"), f.context())
        // One cycle: the sweep that folds the deletion; with no grace the next one collects what it left.
        _ = await f.service.compactAll(tenant: "acme")
        _ = await f.service.compactAll(tenant: "acme")
        #expect(Self.filesContaining("X-ORIGINAL-4711", under: f.root) == [])
        #expect(Self.filesContaining("X-UPDATED-4712", under: f.root) == [])
        let gone = await serviceError { _ = try await f.service.getExport(.object(["memory_export_id": .string(exportId)]), f.context()) }
        #expect(gone?.code == "export_not_found")
    }

    /// An agent-wide export holds memories of several users' partitions: it survives compactions while they
    /// live, and goes with the first compaction after any of them is deleted, wherever that one lived.
    @Test func aFanOutExportIsErasedWhenAMemoryOfAnotherPartitionIsDeleted() async throws {
        let f = try ServiceFixture(storeOptions: Self.noGrace()); defer { f.cleanUp() }
        try await f.add(["u1 likes tea"], user: "u1", extra: ["agent_id": .string("support")])
        let second = try await f.add(["u2 secret SECOND-USER-TEXT"], user: "u2", extra: ["agent_id": .string("support")])
        let export = try await f.service.createExport(json(#"{"schema":{},"filters":{"agent_id":"support"}}"#), f.context())
        let exportId = try #require(export.id.uuidString)
        let get: JSONValue = .object(["memory_export_id": .string(exportId)])
        #expect(try await f.service.getExport(get, f.context()).texts.count == 2)
        _ = await f.service.compactAll(tenant: "acme")
        #expect(try await f.service.getExport(get, f.context()).texts.count == 2, "nothing was deleted: the export stays")
        _ = try await f.service.delete(try parseMemoryId(second[0]), f.context())
        _ = await f.service.compactAll(tenant: "acme")
        _ = await f.service.compactAll(tenant: "acme")
        let gone = await serviceError { _ = try await f.service.getExport(get, f.context()) }
        #expect(gone?.code == "export_not_found")
        #expect(Self.filesContaining("SECOND-USER-TEXT", under: f.root) == [])
    }

    @Test func aReplayedKeyAfterErasureNeverReturnsTheErasedText() async throws {
        let f = try ServiceFixture(storeOptions: Self.noGrace()); defer { f.cleanUp() }
        let body = json(#"{"messages":[{"role":"user","content":"remember the code word PELICAN-99"}],"user_id":"erin","agent_id":"bot","infer":false}"#)
        let first = try await f.service.add(try AddRequest(json: body), f.context(key: "k"))
        let id = try parseMemoryId(try #require(first.ids.first))
        let replayed = try await f.service.add(try AddRequest(json: body), f.context(key: "k"))
        #expect(replayed.applied == nil && ResponseEncoding.json(replayed) == ResponseEncoding.json(first), "the recorded answer, as sent")
        _ = try await f.service.delete(id, f.context())
        let replay = try await f.service.add(try AddRequest(json: body), f.context(key: "k"))
        #expect(replay == .replayed(.erased))
        let wire = ResponseEncoding.json(replay)
        #expect(!wire.encodedString.contains("PELICAN"))
        #expect(wire["message"]?.stringValue?.contains("already applied") == true)
        // The replay wrote nothing: the memory stays deleted.
        let list = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"erin"}}"#)), f.context())
        #expect(list.count == 0)
        // Its history keeps the events, not the text.
        let history = try await f.service.history(id, f.context())
        #expect(history.events == ["ADD", "DELETE"])
        #expect(!ResponseEncoding.json(history).encodedString.contains("PELICAN"))
        _ = await f.service.compactAll(tenant: "acme")
        _ = await f.service.compactAll(tenant: "acme")
        #expect(Self.filesContaining("PELICAN-99", under: f.root) == [])
    }

    @Test func aKeyReusedWithAnotherBodyIsA409AndWritesNothing() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let a = json(#"{"messages":[{"role":"user","content":"first content"}],"user_id":"u","infer":false}"#)
        let b = json(#"{"messages":[{"role":"user","content":"second content"}],"user_id":"u","infer":false}"#)
        let first = try await f.service.add(try AddRequest(json: a), f.context(key: "same"))
        let e = await serviceError { _ = try await f.service.add(try AddRequest(json: b), f.context(key: "same")) }
        #expect(e?.code == "idempotency_key_reused")
        #expect(e?.kind == .conflict)
        let replayed = try await f.service.add(try AddRequest(json: a), f.context(key: "same"))
        #expect(replayed.applied == nil && ResponseEncoding.json(replayed) == ResponseEncoding.json(first), "the recorded answer, as sent")
        let list = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"u"}}"#)), f.context())
        #expect(list.texts == ["first content"])
        // The same key on an update of another memory is refused too.
        let id = try parseMemoryId(try #require(first.ids.first))
        let e2 = await serviceError {
            _ = try await f.service.update(id, try UpdateRequest(json: json(#"{"text":"x"}"#)), f.context(key: "same"))
        }
        #expect(e2?.code == "idempotency_key_reused")
        #expect(try await f.service.get(id, f.context()).text == "first content")
    }

    @Test func metadataNestedBeyondTheRecordLimitIsA400NamingTheField() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        var deep: JSONValue = .number(1)
        for _ in 0..<RecordLimits.maxJSONNesting { deep = .object(["a": deep]) }
        let body: JSONValue = .object(["messages": .string("hi"), "user_id": .string("u"), "metadata": deep])
        let e = await serviceError { _ = try await f.service.add(try AddRequest(json: body), f.context()) }
        #expect(e?.code == "invalid_field")
        #expect(e?.detail.contains("metadata") == true)
        let list = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"u"}}"#)), f.context())
        #expect(list.count == 0)
    }

    /// Found by schemathesis: an admin's `"*"` over a tenant with no partition crashed the handler (an empty
    /// fan-out indexed its first partition).
    @Test func anAdminWildcardOverAnEmptyTenantAnswersNothingInsteadOfCrashing() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        let admin = RequestContext(tenant: "empty-tenant", isAdmin: true)
        let search = try await f.service.search(try SearchRequest(json: json(#"{"query":"q","filters":{"user_id":"*"}}"#)), admin)
        #expect(search.hits.isEmpty)
        let list = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"*"}}"#)), admin)
        #expect(list.count == 0)
        let export = try await f.service.getExport(json(#"{"filters":{"user_id":"*"}}"#), admin)
        #expect(export.texts.isEmpty)
        let stored = await serviceError { _ = try await f.service.createExport(json(#"{"schema":{},"filters":{"user_id":"*"}}"#), admin) }
        #expect(stored?.code == "nothing_to_export")
        _ = try await f.service.deleteAll(scopes: MemoryScopes(agentId: "*"), admin)
    }

    @Test func compactionSummariesNameNoIds() async throws {
        let f = try ServiceFixture(); defer { f.cleanUp() }
        try await f.add(["x"], user: "very-identifiable-user@example.com")
        let summary = await f.service.compactAll(tenant: "acme")
        #expect(summary.compacted == 1)
        #expect(!ResponseEncoding.json(summary).encodedString.contains("identifiable"))
        #expect(summary.messages.first?.contains("user#") == true)
    }
}

extension JSONValue {
    var encodedString: String { String(decoding: encoded(), as: UTF8.self) }
}
