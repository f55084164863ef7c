import Foundation
import JSONModel
import MemoryCore

/// What the HTTP layer needs from the memory service: exactly ``MemoryService``'s API. A protocol so the routes
/// can be served while the service is still being built (see ``ServiceHandle``) and so tests can count calls.
public protocol MemoryBackend: Sendable {
    func add(_ request: AddRequest, _ context: RequestContext) async throws -> WriteAnswer<AddOutcome>
    func search(_ request: SearchRequest, _ context: RequestContext) async throws -> SearchResults
    func list(_ request: ListRequest, _ context: RequestContext) async throws -> MemoryPage
    func get(_ id: UUID, _ context: RequestContext) async throws -> MemoryItem
    func update(_ id: UUID, _ request: UpdateRequest, _ context: RequestContext) async throws -> WriteAnswer<MemoryItem>
    func delete(_ id: UUID, _ context: RequestContext) async throws -> WriteAnswer<Deletion>
    func history(_ id: UUID, _ context: RequestContext) async throws -> MemoryTimeline
    func deleteAll(_ request: DeleteAllRequest, _ context: RequestContext) async throws -> Deletion
    func entities(_ context: RequestContext) async throws -> EntityList
    func deleteEntity(_ entity: EntityReference, _ context: RequestContext) async throws -> Deletion
    func batchUpdate(_ request: BatchUpdateRequest, _ context: RequestContext) async throws -> BatchOutcome
    func batchDelete(_ request: BatchDeleteRequest, _ context: RequestContext) async throws -> BatchOutcome
    func createExport(_ request: ExportRequest, _ context: RequestContext) async throws -> ExportReceipt
    func getExport(_ lookup: ExportLookup, _ context: RequestContext) async throws -> ExportContents
    func compactAll(tenant: String?) async -> CompactionSummary
}

extension MemoryService: MemoryBackend {}
