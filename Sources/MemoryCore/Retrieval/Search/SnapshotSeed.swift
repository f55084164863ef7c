import Foundation
import MemoryStorage

/// The parts of a ``PartitionSearchIndex`` built from the state's snapshot base (``PartitionState/snapshotBase``):
/// a base segment over the snapshot's memories with the BM25 postings stored in the snapshot, plus a tail for
/// the changes applied since.
///
/// Used only when everything fits: the base is of the state's own lineage, its BM25 section decodes and
/// describes those memories, and the changes since are few enough to derive a tail
/// (``IncrementalIndexPolicy``). Otherwise `nil`, and the caller builds from scratch.
///
/// The section is decoded once per loaded snapshot (``SnapshotBase/decodedSection(kind:decode:)``): the base
/// then keeps the decoded postings, which every index seeded from it shares, instead of the section's bytes.
struct SnapshotSeed {
    let origin: IndexOrigin
    let base: SearchSegment
    let basePositions: MemoryPositions
    let tail: IndexTail?

    init?(state: PartitionState) {
        guard let snapshot = state.snapshotBase, snapshot.lineage == state.journal.lineage else { return nil }
        let origin = IndexOrigin(lineage: snapshot.lineage, revision: snapshot.revision)
        let count = snapshot.memories.count
        let changes: ArraySlice<ChangeJournal.Change>?
        if state.revision == snapshot.revision {
            changes = nil
        } else {
            // Check the changes are few enough before paying for the decode.
            guard let since = IncrementalIndexPolicy.changes(from: origin, baseCount: count, to: state) else { return nil }
            changes = since
        }
        guard let bm25 = snapshot.decodedSection(kind: BM25SnapshotSection.kind, decode: { section in
            try? BM25SnapshotSection.decode(section.data, documentIds: snapshot.memories.map(\.id))
        }) else { return nil }
        let base = SearchSegment(memories: snapshot.memories, bm25: bm25)
        guard let changes else {
            self.init(origin: origin, base: base, basePositions: state.positions, tail: nil)
            return
        }
        var positions = MemoryPositions(minimumCapacity: count)
        for i in snapshot.memories.indices { positions[snapshot.memories[i].id] = i }
        guard let tail = IndexTail(base: base, basePositions: positions, state: state, changes: changes,
                                   maximumChanged: IncrementalIndexPolicy.maximumChangedMemories(baseCount: count))
        else { return nil }
        self.init(origin: origin, base: base, basePositions: positions, tail: tail)
    }

    private init(origin: IndexOrigin, base: SearchSegment, basePositions: MemoryPositions, tail: IndexTail?) {
        self.origin = origin
        self.base = base
        self.basePositions = basePositions
        self.tail = tail
    }
}
