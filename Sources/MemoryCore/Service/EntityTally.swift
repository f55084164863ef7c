import Foundation
import MemoryStorage

/// Counts, per scope id (user, agent, app or run), the live memories carrying it, wherever they live: an agent
/// that only ever wrote into user partitions is an entity too (`GET /v1/entities/`).
struct EntityTally: Sendable {
    struct Entry: Sendable {
        var count: Int
        var createdAt: Date
        var updatedAt: Date
    }

    private(set) var entries: [PartitionOwner: Entry] = [:]

    /// The tally of one partition's memories.
    init(_ memories: [StoredMemory]) {
        for m in memories {
            for kind in OwnerKind.allCases {
                guard let id = m.scopes[kind] else { continue }
                add(PartitionOwner(kind: kind, id: id), Entry(count: 1, createdAt: m.createdAt, updatedAt: m.updatedAt))
            }
        }
    }

    init() {}

    mutating func merge(_ other: EntityTally) {
        for (entity, entry) in other.entries { add(entity, entry) }
    }

    private mutating func add(_ entity: PartitionOwner, _ entry: Entry) {
        if var e = entries[entity] {
            e.count += entry.count
            e.createdAt = min(e.createdAt, entry.createdAt)
            e.updatedAt = max(e.updatedAt, entry.updatedAt)
            entries[entity] = e
        } else {
            entries[entity] = entry
        }
    }

    /// Entities in a stable order: by kind (user, agent, app, run order of the names), then id.
    var sorted: [(entity: PartitionOwner, entry: Entry)] {
        entries.map { ($0.key, $0.value) }.sorted { ($0.entity.kind.rawValue, $0.entity.id) < ($1.entity.kind.rawValue, $1.entity.id) }
    }
}
