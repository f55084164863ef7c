import Foundation
import FunctionsRuntime
import MemoryCore
import MemoryStorage

/// A stateless backend that answers each call with what it received (operation, tenant, parsed arguments),
/// so route tests can check the HTTP layer parsed and forwarded the right things. One memory id
/// (`EchoBackend.acmeMemory`) belongs to tenant `acme`; any other tenant asking for it gets not-found,
/// like the real service.
struct EchoBackend: MemoryBackend {
    static let acmeMemory = UUID(uuidString: "11111111-2222-3333-4444-555555555555")!

    func echo(_ op: String, _ c: RequestContext, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var o = extra
        o["op"] = .string(op)
        o["tenant"] = .string(c.tenant)
        o["request_id"] = .string(c.requestId)
        if let k = c.idempotencyKey { o["idempotency_key"] = .string(k) }
        if let user = c.boundUserId { o["bound_user_id"] = .string(user) }
        return .object(o)
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

    func add(_ r: AddRequest, _ c: RequestContext) async throws -> JSONValue {
        echo("add", c, ["scopes": scopes(r.scopes), "messages": .number(Double(r.messages.count)), "infer": .bool(r.infer)])
    }
    func search(_ r: SearchRequest, _ c: RequestContext) async throws -> JSONValue {
        echo("search", c, ["query": .string(r.query), "filters": r.filters, "top_k": .number(Double(r.topK))])
    }
    func list(_ r: ListRequest, _ c: RequestContext) async throws -> JSONValue {
        echo("list", c, ["filters": r.filters, "page": .number(Double(r.page)), "page_size": .number(Double(r.pageSize))])
    }
    func get(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { echo("get", c, try check(id, c)) }
    func update(_ id: UUID, _ r: UpdateRequest, _ c: RequestContext) async throws -> JSONValue {
        var o = try check(id, c)
        o["text"] = r.text.map { .string($0) } ?? .null
        return echo("update", c, o)
    }
    func delete(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { echo("delete", c, try check(id, c)) }
    func history(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { echo("history", c, try check(id, c)) }
    func deleteAll(scopes s: MemoryScopes, _ c: RequestContext) async throws -> JSONValue {
        echo("delete_all", c, ["scopes": scopes(s)])
    }
    func entities(_ c: RequestContext) async throws -> JSONValue { echo("entities", c) }
    func deleteEntity(type: String, id: String, _ c: RequestContext) async throws -> JSONValue {
        echo("delete_entity", c, ["type": .string(type), "id": .string(id)])
    }
    func batchUpdate(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { echo("batch_update", c, ["body": body]) }
    func batchDelete(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { echo("batch_delete", c, ["body": body]) }
    func createExport(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { echo("export_create", c, ["body": body]) }
    func getExport(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { echo("export_get", c, ["body": body]) }
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
    func add(_ r: AddRequest, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func search(_ r: SearchRequest, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func list(_ r: ListRequest, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func get(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func update(_ id: UUID, _ r: UpdateRequest, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func delete(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func history(_ id: UUID, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func deleteAll(scopes: MemoryScopes, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func entities(_ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func deleteEntity(type: String, id: String, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func batchUpdate(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func batchDelete(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func createExport(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func getExport(_ body: JSONValue, _ c: RequestContext) async throws -> JSONValue { throw Boom() }
    func compactAll(tenant: String?) async -> CompactionSummary {
        CompactionSummary(partitions: 0, compacted: 0, failed: 0, messages: [])
    }
}
