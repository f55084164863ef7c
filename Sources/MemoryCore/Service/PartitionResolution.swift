import Foundation
import MemoryStorage

/// Finding the partition(s) a request is about.
extension MemoryService {
    /// The scope ids that `filters` pins by equality at its top level or inside a top-level `AND`: a search,
    /// list or delete reads only the partition of the most specific of them.
    static func pinnedScopes(_ filters: JSONValue) -> MemoryScopes {
        var scopes = MemoryScopes()
        func visit(_ o: [String: JSONValue]) {
            for (key, value) in o {
                let pinned: String?
                switch value {
                case .string(let s): pinned = s
                case .object(let op): pinned = op["eq"]?.stringValue
                default: pinned = nil
                }
                switch key {
                case "user_id": scopes.userId = scopes.userId ?? pinned
                case "agent_id": scopes.agentId = scopes.agentId ?? pinned
                case "app_id": scopes.appId = scopes.appId ?? pinned
                case "run_id": scopes.runId = scopes.runId ?? pinned
                case "AND", "and":
                    for case .object(let inner) in value.arrayValue ?? [] { visit(inner) }
                default: break
                }
            }
        }
        if case .object(let o) = filters { visit(o) }
        return scopes
    }

    /// The partition a filter-scoped request reads, or a 400 saying which ids to send.
    func partition(forFilters filters: JSONValue, _ context: RequestContext) throws -> PartitionKey {
        guard let owner = Self.pinnedScopes(filters).owner else {
            throw MemoryServiceError.invalid(
                "filters must include at least one of user_id, agent_id, app_id, run_id (as an equality)",
                code: "missing_entity_id")
        }
        return PartitionKey(tenant: context.tenant, owner: owner)
    }

    /// Where a memory id lives, with the partition's state. Also finds deleted (invalidated) memories that still
    /// have history when `includeHistoryOnly`. Another tenant's id is simply not found.
    func locate(_ id: UUID, _ context: RequestContext, includeHistoryOnly: Bool = false) async throws
        -> (key: PartitionKey, state: PartitionState)
    {
        let hint = PartitionOwner.idHintHex(of: id)
        for key in try await store.partitions(tenant: context.tenant, idHintHex: hint) {
            let state = try await store.read(key)
            if state.memory(id) != nil || (includeHistoryOnly && state.history[id] != nil) {
                return (key, state)
            }
        }
        throw MemoryServiceError.notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
    }
}
