import Foundation
import FunctionsRuntime
import JSONModel
import MemoryCore
import MemoryStorage
import Synchronization

/// A stateless backend that records each call with what it received (operation, tenant, parsed arguments), so
/// route tests can check the HTTP layer parsed and forwarded the right things (``EchoBackend/calls``), and
/// answers with small fixed domain values. One memory id (`EchoBackend.acmeMemory`) belongs to tenant `acme`;
/// any other tenant asking for it gets not-found, like the real service.
struct EchoBackend: MemoryBackend {
    static let acmeMemory = UUID(uuidString: "11111111-2222-3333-4444-555555555555")!
    static let memory = StoredMemory(id: acmeMemory, text: "echo", hash: "", scopes: MemoryScopes(userId: "alice"),
                                     metadata: .null, createdAt: Date(timeIntervalSince1970: 0),
                                     updatedAt: Date(timeIntervalSince1970: 0), embedding: [])

    /// Every call so far, as `{"op","tenant","request_id","idempotency_key"?, …arguments}`, oldest first.
    final class Calls: Sendable {
        private let log = Mutex<[JSONValue]>([])
        func append(_ call: JSONValue) { log.withLock { $0.append(call) } }
        var last: JSONValue { log.withLock { $0.last ?? .null } }
    }

    let calls = Calls()

    func echo(_ op: String, _ c: RequestContext, _ extra: [String: JSONValue] = [:]) {
        var o = extra
        o["op"] = .string(op)
        o["tenant"] = .string(c.tenant)
        o["request_id"] = .string(c.requestId)
        if let k = c.idempotencyKey { o["idempotency_key"] = .string(k) }
        if let user = c.boundUserId { o["bound_user_id"] = .string(user) }
        calls.append(.object(o))
    }

    func check(_ id: UUID, _ c: RequestContext) throws -> [String: JSONValue] {
        guard id == Self.acmeMemory, c.tenant == "acme" || c.tenant == "default" else {
            throw MemoryServiceError.notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
        }
        return ["id": .string(id.uuidString.lowercased())]
    }

    func scopes(_ s: MemoryScopes) -> JSONValue {
        .object(["user_id": s.userId.map { .string($0) } ?? .null, "agent_id": s.agentId.map { .string($0) } ?? .null,
                 "app_id": s.appId.map { .string($0) } ?? .null, "run_id": s.runId.map { .string($0) } ?? .null])
    }

    /// The scope ids a parsed filter pins (one set), for checking the route parsed `filters`.
    func targets(_ filter: MemoryFilter) -> JSONValue {
        guard case .anyOf(let sets) = filter.scopeTargets, sets.count == 1 else { return .null }
        return scopes(sets[0])
    }

    func add(_ r: AddRequest, _ c: RequestContext) async throws -> WriteAnswer<AddOutcome> {
        echo("add", c, ["scopes": scopes(r.scopes), "messages": .number(Double(r.messages.count)), "infer": .bool(r.infer)])
        return .applied(AddOutcome(eventId: Self.acmeMemory, events: []))
    }
    func search(_ r: SearchRequest, _ c: RequestContext) async throws -> SearchResults {
        echo("search", c, ["query": .string(r.query), "filters": targets(r.filter), "top_k": .number(Double(r.topK))])
        return SearchResults(hits: [])
    }
    func list(_ r: ListRequest, _ c: RequestContext) async throws -> MemoryPage {
        echo("list", c, ["filters": targets(r.filter), "page": .number(Double(r.page)), "page_size": .number(Double(r.pageSize))])
        return MemoryPage(items: [], count: 0, page: r.page, pageSize: r.pageSize)
    }
    func get(_ id: UUID, _ c: RequestContext) async throws -> StoredMemory {
        echo("get", c, try check(id, c))
        return Self.memory
    }
    func update(_ id: UUID, _ r: UpdateRequest, _ c: RequestContext) async throws -> WriteAnswer<StoredMemory> {
        var o = try check(id, c)
        o["text"] = r.text.map { .string($0) } ?? .null
        echo("update", c, o)
        return .applied(Self.memory)
    }
    func delete(_ id: UUID, _ c: RequestContext) async throws -> WriteAnswer<Deletion> {
        echo("delete", c, try check(id, c))
        return .applied(.memory)
    }
    func history(_ id: UUID, _ c: RequestContext) async throws -> MemoryTimeline {
        echo("history", c, try check(id, c))
        return MemoryTimeline(entries: [], owner: PartitionOwner(kind: .user, id: "alice"), current: Self.memory)
    }
    func deleteAll(_ r: DeleteAllRequest, _ c: RequestContext) async throws -> Deletion {
        echo("delete_all", c, ["scopes": scopes(r.scopes)])
        return .memories(0)
    }
    func entities(_ c: RequestContext) async throws -> EntityList {
        echo("entities", c)
        return EntityList(tenant: c.tenant, entities: [])
    }
    func deleteEntity(_ e: EntityReference, _ c: RequestContext) async throws -> Deletion {
        echo("delete_entity", c, ["type": .string(e.kind.rawValue), "id": .string(e.id)])
        return .entity(0)
    }
    func batchUpdate(_ r: BatchUpdateRequest, _ c: RequestContext) async throws -> BatchOutcome {
        echo("batch_update", c, ["count": .number(Double(r.changes.count))])
        return BatchOutcome(.updated, count: r.changes.count)
    }
    func batchDelete(_ r: BatchDeleteRequest, _ c: RequestContext) async throws -> BatchOutcome {
        echo("batch_delete", c, ["count": .number(Double(r.ids.count))])
        return BatchOutcome(.deleted, count: r.ids.count)
    }
    func createExport(_ r: ExportRequest, _ c: RequestContext) async throws -> ExportReceipt {
        echo("export_create", c, ["filters": r.filters])
        return ExportReceipt(id: Self.acmeMemory)
    }
    func getExport(_ l: ExportLookup, _ c: RequestContext) async throws -> ExportContents {
        echo("export_get", c)
        return .computed([])
    }
    /// Partitions the echoed compaction reports as failed.
    var failedCompactions = 0

    func compactAll(tenant: String?) async -> CompactionSummary {
        CompactionSummary(partitions: 2, compacted: 2 - failedCompactions, failed: failedCompactions,
                          messages: ["tenant \(tenant ?? "*")"]
                              + (0..<failedCompactions).map { _ in "compaction of tenant=x user#00000000 failed: storage unavailable" })
    }
}

/// A backend whose every call fails with a non-service error, to check the 500 path.
struct ExplodingBackend: MemoryBackend {
    struct Boom: Error {}
    func add(_ r: AddRequest, _ c: RequestContext) async throws -> WriteAnswer<AddOutcome> { throw Boom() }
    func search(_ r: SearchRequest, _ c: RequestContext) async throws -> SearchResults { throw Boom() }
    func list(_ r: ListRequest, _ c: RequestContext) async throws -> MemoryPage { throw Boom() }
    func get(_ id: UUID, _ c: RequestContext) async throws -> StoredMemory { throw Boom() }
    func update(_ id: UUID, _ r: UpdateRequest, _ c: RequestContext) async throws -> WriteAnswer<StoredMemory> { throw Boom() }
    func delete(_ id: UUID, _ c: RequestContext) async throws -> WriteAnswer<Deletion> { throw Boom() }
    func history(_ id: UUID, _ c: RequestContext) async throws -> MemoryTimeline { throw Boom() }
    func deleteAll(_ r: DeleteAllRequest, _ c: RequestContext) async throws -> Deletion { throw Boom() }
    func entities(_ c: RequestContext) async throws -> EntityList { throw Boom() }
    func deleteEntity(_ e: EntityReference, _ c: RequestContext) async throws -> Deletion { throw Boom() }
    func batchUpdate(_ r: BatchUpdateRequest, _ c: RequestContext) async throws -> BatchOutcome { throw Boom() }
    func batchDelete(_ r: BatchDeleteRequest, _ c: RequestContext) async throws -> BatchOutcome { throw Boom() }
    func createExport(_ r: ExportRequest, _ c: RequestContext) async throws -> ExportReceipt { throw Boom() }
    func getExport(_ l: ExportLookup, _ c: RequestContext) async throws -> ExportContents { throw Boom() }
    func compactAll(tenant: String?) async -> CompactionSummary {
        CompactionSummary(partitions: 0, compacted: 0, failed: 0, messages: [])
    }
}
