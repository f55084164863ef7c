import Foundation
import MemoryStorage

/// The answer to `GET /v1/memories/{id}/history/`: the memory's events oldest first, the partition owner (whose
/// user id history items name when the memory is gone) and the memory as it is now (nil once deleted).
public struct MemoryTimeline: Sendable {
    public var entries: [HistoryEntry]
    public var owner: PartitionOwner
    public var current: StoredMemory?

    public init(entries: [HistoryEntry], owner: PartitionOwner, current: StoredMemory?) {
        self.entries = entries
        self.owner = owner
        self.current = current
    }
}
