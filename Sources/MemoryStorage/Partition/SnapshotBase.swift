import Foundation

/// The snapshot a ``PartitionState`` was loaded from, as far as a layer above needs it to reuse the data it
/// derived at compaction (``PartitionStoreOptions/derivedSections``): the snapshot's revision, its memories in
/// record order (the order the derived sections describe) and those sections.
///
/// Why the memories: the state's own ``PartitionState/memories`` move as batches are applied, while the
/// derived sections address the snapshot's records by position. The array is the one the state was loaded
/// with, so it costs nothing until the state's first change (then the state copies its array on write and
/// this one stays as it was).
///
/// Never trust the sections blindly: check that they decode and describe ``memories`` (e.g. their count).
public struct SnapshotBase: Sendable {
    /// The lineage (``ChangeJournal/lineage``) of the state loaded from the snapshot.
    public let lineage: UInt64
    /// The snapshot's revision.
    public let revision: UInt64
    /// The snapshot's memories, in record order.
    public let memories: [StoredMemory]
    /// The snapshot's sections of derived kinds (≥ ``SnapshotSection/firstDerivedKind``) and any other kind
    /// this reader does not know.
    public let sections: [SnapshotSection]

    /// The first section of kind `kind`.
    public func section(kind: UInt32) -> SnapshotSection? {
        sections.first { $0.kind == kind }
    }
}
