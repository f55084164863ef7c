import Foundation

/// Which memories ``PartitionState/apply(_:)`` touched, and at which revision, since the state was created by
/// one of its initialisers.
///
/// Why: something derived from an earlier state (a search index, say) can be brought up to date by revisiting
/// only the memories that changed since, instead of the whole partition. ``lineage`` tells whether two states
/// descend from the same initialiser (a state loaded again from a snapshot, or an unrelated state that happens
/// to have the same revision, gets another lineage); the revision on each change tells which changes came
/// after the earlier state. The journal is for such consumers only: it is not persisted, and nothing the
/// storage engine reads or writes depends on it.
///
/// Cost: one entry per applied operation (24 bytes); past ``retainedChanges`` × 2 entries the oldest are dropped
/// (whole batches, amortised O(1)), after which a consumer older than ``completeAfter`` must start over.
public struct ChangeJournal: Sendable {
    /// One memory touched by one applied batch.
    public struct Change: Sendable, Equatable {
        /// The revision the state reached by applying the batch (entries are in non-decreasing revision order).
        public let revision: UInt64
        /// The memory an operation of the batch named (added, updated, deleted or purged — also when the
        /// operation turned out to be a no-op, e.g. an update of a memory deleted meanwhile).
        public let memoryId: UUID
    }

    /// How many of the newest changes the journal keeps at least (it trims down to this when it holds twice
    /// as many).
    public static let retainedChanges = 4096

    /// Random per ``PartitionState`` initialiser call and carried unchanged by `apply`: two states with the
    /// same lineage are the same initial state plus batches applied in log order.
    public let lineage: UInt64
    /// ``changes`` lists every memory touched by every batch applied after this revision (the initial
    /// revision, raised when old entries are dropped).
    public private(set) var completeAfter: UInt64
    /// The retained changes, oldest first.
    public private(set) var changes: [Change]

    init(revision: UInt64) {
        self.lineage = UInt64.random(in: UInt64.min ... UInt64.max)
        self.completeAfter = revision
        self.changes = []
    }

    mutating func record(_ memoryId: UUID, revision: UInt64) {
        changes.append(Change(revision: revision, memoryId: memoryId))
    }

    /// Drops the oldest entries once the journal holds twice ``retainedChanges``, never splitting a batch.
    mutating func trimIfNeeded() {
        guard changes.count > 2 * Self.retainedChanges else { return }
        var cut = changes.count - Self.retainedChanges
        let lastDropped = changes[cut - 1].revision
        while cut < changes.count, changes[cut].revision == lastDropped { cut += 1 }
        completeAfter = lastDropped
        changes.removeFirst(cut)
    }

    /// The changes of the batches applied after `revision`, oldest first; `nil` when the journal cannot tell
    /// (another lineage, or entries for some of those batches were dropped).
    public func changes(after revision: UInt64, lineage: UInt64) -> ArraySlice<Change>? {
        guard lineage == self.lineage, revision >= completeAfter else { return nil }
        // Binary search for the first change with a later revision.
        var lo = 0, hi = changes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if changes[mid].revision <= revision { lo = mid + 1 } else { hi = mid }
        }
        return changes[lo...]
    }
}
