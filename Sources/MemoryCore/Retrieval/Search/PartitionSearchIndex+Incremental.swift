import Foundation
import MemoryStorage

/// When a changed partition's index is derived from the previous one instead of rebuilt.
///
/// A derived index reuses the previous index's base (a full build) and indexes only the memories changed
/// since that base, so deriving costs time proportional to the change, and each search pays a little for the
/// tail segment and the masked base rows. Beyond ``maximumChangedMemories(baseCount:)`` distinct changed
/// memories since the base, the index is rebuilt in full and becomes the next base.
public enum IncrementalIndexPolicy {
    /// 5 % of the base, but at least 64 (small partitions) and at most 2 000 (so the tail stays a small
    /// fraction of a search's work and of a derivation's time, ~1–2 ms per thousand memories).
    public static func maximumChangedMemories(baseCount: Int) -> Int {
        max(64, min(2_000, baseCount / 20))
    }

    /// The journal entries between the state `origin` names and `state`, when few enough to derive from.
    static func changes(from origin: IndexOrigin, baseCount: Int, to state: PartitionState) -> ArraySlice<ChangeJournal.Change>? {
        guard let changes = state.changes(since: origin.revision, lineage: origin.lineage) else { return nil }
        let limit = maximumChangedMemories(baseCount: baseCount)
        // Entries bound the work too (an id may repeat), then the distinct ids the tail would hold.
        guard changes.count <= 4 * limit else { return nil }
        var distinct = Set<UUID>(minimumCapacity: min(changes.count, limit + 1))
        for change in changes {
            distinct.insert(change.memoryId)
            if distinct.count > limit { return nil }
        }
        return changes
    }
}

extension PartitionSearchIndex {
    /// The index of `state` derived from `prior` (an index of an earlier state of the same lineage) in time
    /// proportional to the changes since `prior`'s base; `nil` when it cannot be (another lineage, the
    /// journal no longer reaches back, too many changes, the embedding dimension changed).
    public convenience init?(state: PartitionState, updating prior: PartitionSearchIndex) {
        let base = prior.base
        guard let changes = IncrementalIndexPolicy.changes(from: prior.origin, baseCount: base.count, to: state),
              let tail = IndexTail(base: base, basePositions: prior.basePositions, state: state, changes: changes,
                                   maximumChanged: IncrementalIndexPolicy.maximumChangedMemories(baseCount: base.count))
        else { return nil }
        self.init(revision: state.revision, count: state.memories.count, origin: prior.origin, base: base,
                  basePositions: prior.basePositions, tail: tail)
    }
}
