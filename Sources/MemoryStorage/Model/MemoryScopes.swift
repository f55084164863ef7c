import Foundation

/// The four Mem0 scope ids a memory can carry. A memory names at least one.
public struct MemoryScopes: Sendable, Hashable, Codable {
    public var userId: String?
    public var agentId: String?
    public var appId: String?
    public var runId: String?

    public init(userId: String? = nil, agentId: String? = nil, appId: String? = nil, runId: String? = nil) {
        self.userId = userId
        self.agentId = agentId
        self.appId = appId
        self.runId = runId
    }

    /// True when no scope id is set.
    public var isEmpty: Bool { userId == nil && agentId == nil && appId == nil && runId == nil }

    /// The most specific id, which names the memory's partition: `user_id` > `agent_id` > `app_id` > `run_id`.
    public var owner: PartitionOwner? {
        if let userId { return PartitionOwner(kind: .user, id: userId) }
        if let agentId { return PartitionOwner(kind: .agent, id: agentId) }
        if let appId { return PartitionOwner(kind: .app, id: appId) }
        if let runId { return PartitionOwner(kind: .run, id: runId) }
        return nil
    }

    /// The value of one scope.
    public subscript(kind: OwnerKind) -> String? {
        get {
            switch kind {
            case .user: return userId
            case .agent: return agentId
            case .app: return appId
            case .run: return runId
            }
        }
        set {
            switch kind {
            case .user: userId = newValue
            case .agent: agentId = newValue
            case .app: appId = newValue
            case .run: runId = newValue
            }
        }
    }
}
