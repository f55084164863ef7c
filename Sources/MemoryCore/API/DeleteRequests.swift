import Foundation
import MemoryStorage

/// `DELETE /v1/memories/?user_id=…&agent_id=…`: the scope ids every erased memory carries (`"*"`: any id of
/// that kind), from the URL query; at least one is required.
public struct DeleteAllRequest: Sendable {
    public var scopes: MemoryScopes

    public init(scopes: MemoryScopes) {
        self.scopes = scopes
    }

    public init(query: [String: String]) throws(MemoryServiceError) {
        func value(_ k: String) -> String? {
            guard let v = query[k]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        scopes = MemoryScopes(userId: value("user_id"), agentId: value("agent_id"),
                              appId: value("app_id"), runId: value("run_id"))
        guard !scopes.isEmpty else {
            throw .invalid("name at least one of user_id, agent_id, app_id, run_id as a query parameter",
                           code: "missing_entity_id")
        }
    }
}

/// `DELETE /v2/entities/{type}/{id}/`: one user, agent, app or run id, from the path.
public struct EntityReference: Sendable, Equatable {
    public var kind: OwnerKind
    public var id: String

    public init(kind: OwnerKind, id: String) {
        self.kind = kind
        self.id = id
    }

    /// `type` is `user`, `agent`, `app` or `run` (any case); `id` must not be blank.
    public init(type: String, id: String) throws(MemoryServiceError) {
        let type = type.lowercased()
        guard let kind = OwnerKind(rawValue: type) else {
            throw .invalid("entity type must be user, agent, app or run, got '\(type.prefix(30))'", code: "invalid_entity_type")
        }
        guard !id.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid("the entity id is empty", code: "missing_entity_id")
        }
        self.init(kind: kind, id: id)
    }
}
