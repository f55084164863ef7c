import Foundation
import MemoryCore
import MemoryStorage

/// What the HTTP layer needs from the memory service: exactly ``MemoryService``'s API. A protocol so the routes
/// can be served while the service is still being built (see ``ServiceHandle``) and so tests can count calls.
public protocol MemoryBackend: Sendable {
    func add(_ request: AddRequest, _ context: RequestContext) async throws -> JSONValue
    func search(_ request: SearchRequest, _ context: RequestContext) async throws -> JSONValue
    func list(_ request: ListRequest, _ context: RequestContext) async throws -> JSONValue
    func get(_ id: UUID, _ context: RequestContext) async throws -> JSONValue
    func update(_ id: UUID, _ request: UpdateRequest, _ context: RequestContext) async throws -> JSONValue
    func delete(_ id: UUID, _ context: RequestContext) async throws -> JSONValue
    func history(_ id: UUID, _ context: RequestContext) async throws -> JSONValue
    func deleteAll(scopes: MemoryScopes, _ context: RequestContext) async throws -> JSONValue
    func entities(_ context: RequestContext) async throws -> JSONValue
    func deleteEntity(type: String, id: String, _ context: RequestContext) async throws -> JSONValue
    func batchUpdate(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue
    func batchDelete(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue
    func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue
    func getExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue
    func compactAll(tenant: String?) async -> CompactionSummary
}

extension MemoryService: MemoryBackend {}
