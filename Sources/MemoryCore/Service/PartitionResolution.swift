import Foundation
import MemoryStorage

/// Finding the partition a memory id lives in (filter-scoped requests: ``partitions(for:_:)``).
extension MemoryService {
    /// Where a memory id lives, with the partition's state. Also finds deleted (invalidated) memories that still
    /// have history when `includeHistoryOnly`. Another tenant's id is simply not found (404 `memory_not_found`).
    func locate(_ id: UUID, _ context: RequestContext, includeHistoryOnly: Bool = false) async throws
        -> (key: PartitionKey, state: PartitionState)
    {
        let hint = PartitionOwner.idHintHex(of: id)
        for key in try await store.partitions(tenant: context.tenant, idHintHex: hint)
            where BoundUserRule.allows(key, context) {
            let state = try await store.read(key)
            if state.memory(id) != nil || (includeHistoryOnly && state.history[id] != nil) {
                return (key, state)
            }
        }
        throw Self.memoryNotFound(id)
    }

    /// A live memory by id, or 404.
    func memory(_ id: UUID, in state: PartitionState) throws(MemoryServiceError) -> StoredMemory {
        guard let m = state.memory(id) else { throw Self.memoryNotFound(id) }
        return m
    }

    /// The one 404 for a memory id that is not (or no longer) there.
    static func memoryNotFound(_ id: UUID) -> MemoryServiceError {
        .notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
    }
}
