import Foundation
import MemoryStorage

/// One user, agent, app or run id that live memories carry, with how many and when they were first and last
/// written.
public struct EntitySummary: Sendable, Equatable {
    public var kind: OwnerKind
    public var id: String
    public var memoryCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(kind: OwnerKind, id: String, memoryCount: Int, createdAt: Date, updatedAt: Date) {
        self.kind = kind
        self.id = id
        self.memoryCount = memoryCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The answer to `GET /v1/entities/`: every entity of the tenant, by kind then id.
public struct EntityList: Sendable, Equatable {
    /// The tenant (Mem0's `owner` of each entity).
    public var tenant: String
    public var entities: [EntitySummary]

    public init(tenant: String, entities: [EntitySummary]) {
        self.tenant = tenant
        self.entities = entities
    }

    /// How many entities of `kind` are listed.
    public func count(of kind: OwnerKind) -> Int { entities.lazy.filter { $0.kind == kind }.count }
}
