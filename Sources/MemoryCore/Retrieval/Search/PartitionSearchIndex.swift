import Foundation
import MemoryStorage

/// The search structure of one partition state: the embeddings' int8 codes (the memories' own, scanned in
/// place), BM25 postings, and filter columns. Immutable, so any number of concurrent searches share one;
/// ``SearchIndexCache`` keeps one per partition.
///
/// Either a full build over the state (``init(state:)``), or derived from an earlier index of the same lineage
/// (``init(state:updating:)``): that index's full build (the base, shared, its rows past changes masked out)
/// plus a small segment over the memories changed since (the tail). Both answer exactly alike: rows are
/// identified by their position in ``PartitionState/memories``, so order and tie-breaking agree, and BM25 uses
/// the whole state's corpus figures (see `docs/retrieval.md`, "Incremental index").
public final class PartitionSearchIndex: Sendable {
    /// The partition revision the index reflects.
    public let revision: UInt64
    /// Number of memories indexed.
    public let count: Int
    /// The state ``base`` was built from.
    let origin: IndexOrigin
    /// A full build over the state at ``origin``: its row `r` was that state's position `r`.
    let base: SearchSegment
    /// Position of each memory of the state at ``origin``.
    let basePositions: MemoryPositions
    /// The memories changed since ``origin``; `nil` for a full build.
    let tail: IndexTail?

    /// How many approximate candidates per requested result the vector scan keeps for exact rescoring.
    public static let rescoreFactor = 8
    /// Lower bound on the candidates each side proposes.
    public static let minimumCandidates = 64

    /// Builds the whole index over `state`. When the state was loaded from a snapshot holding its BM25
    /// postings (``BM25SnapshotSection``), the base is built over the snapshot's memories with those postings
    /// instead of tokenising every text, and the changes since the snapshot are added as a tail — the same
    /// answers as a build from scratch (see `docs/retrieval.md`, "BM25 section").
    public convenience init(state: PartitionState) {
        if let seed = SnapshotSeed(state: state) {
            self.init(revision: state.revision, count: state.memories.count, origin: seed.origin, base: seed.base,
                      basePositions: seed.basePositions, tail: seed.tail)
        } else {
            self.init(revision: state.revision, count: state.memories.count,
                      origin: IndexOrigin(lineage: state.journal.lineage, revision: state.revision),
                      base: SearchSegment(memories: state.memories), basePositions: state.positions, tail: nil)
        }
    }

    init(revision: UInt64, count: Int, origin: IndexOrigin, base: SearchSegment, basePositions: MemoryPositions,
         tail: IndexTail?) {
        self.revision = revision
        self.count = count
        self.origin = origin
        self.base = base
        self.basePositions = basePositions
        self.tail = tail
    }

    /// Embedding dimension of the vector side (0 when the partition has no vectors).
    public var dimension: Int { base.vectors.dimension }
    /// Bytes an unfiltered vector scan reads (codes + scales), for benchmarks.
    public var scanBytes: Int { base.vectors.scanBytes + (tail?.segment.vectors.scanBytes ?? 0) }
    /// True when the index was derived from an earlier one rather than built over the whole state.
    public var isIncremental: Bool { tail != nil }
    /// The revision of the state the base was built from (earlier than ``revision`` when the index has a
    /// tail, e.g. a base built from the snapshot the state was loaded from).
    public var baseRevision: UInt64 { origin.revision }
    /// Number of memories in the base segment.
    var baseCount: Int { base.count }
    /// The BM25 postings over every memory, rows in state order (e.g. to serialise into a snapshot). A derived
    /// index builds them on demand.
    public var keywordIndex: BM25Index {
        guard tail != nil else { return base.bm25 }
        let all = select(filter: .all, now: .distantPast, includeExpired: true)
        return BM25Index(documents: all.map { ($0.id, $0.text) })
    }

    /// The memories `filter` selects, visible at `now` (expired ones dropped unless `includeExpired`), in
    /// index order: list and delete-by-filter use the same evaluation as search.
    public func select(filter: MemoryFilter, now: Date, includeExpired: Bool) -> [StoredMemory] {
        let visible = visibleRows(filter: filter, now: now, includeExpired: includeExpired)
        var out: [StoredMemory] = []
        guard let tail else {
            visible.base.forEachRow(count: base.count) { out.append(base.memories[$0]) }
            return out
        }
        // Merge the two ascending position streams.
        var tailRows: [Int] = []
        visible.tail.forEachRow(count: tail.segment.count) { tailRows.append($0) }
        var next = 0
        visible.base.forEachRow(count: base.count) { position in
            while next < tailRows.count, tail.positions[tailRows[next]] < position {
                out.append(tail.segment.memories[tailRows[next]])
                next += 1
            }
            out.append(base.memories[position])
        }
        for row in tailRows[next...] { out.append(tail.segment.memories[row]) }
        return out
    }

    /// The rows of each segment `filter` selects and expiry leaves visible (base rows changed since limited
    /// out).
    func visibleRows(filter: MemoryFilter, now: Date, includeExpired: Bool) -> VisibleRows {
        let fromBase = base.visibleRows(filter: filter, now: now, includeExpired: includeExpired)
        guard let tail else { return VisibleRows(base: fromBase, tail: .none) }
        return VisibleRows(base: fromBase.intersection(tail.currentBaseRows),
                           tail: tail.segment.visibleRows(filter: filter, now: now, includeExpired: includeExpired))
    }

    /// The segment and row holding the memory at state position `position`.
    func locate(_ position: Int) -> (segment: SearchSegment, row: Int) {
        guard let tail, let row = tail.row(atPosition: position) else { return (base, position) }
        return (tail.segment, row)
    }
}

/// Which state a base segment was built from: a derived index needs a later state of the same lineage.
struct IndexOrigin: Sendable, Equatable {
    let lineage: UInt64
    let revision: UInt64
}

/// What a filter leaves visible in each segment of an index.
struct VisibleRows {
    var base: RowSelection
    var tail: RowSelection

    var isEmpty: Bool {
        if case .none = base, case .none = tail { return true }
        return false
    }
}

extension RowSelection {
    func forEachRow(count: Int, _ body: (Int) -> Void) {
        switch self {
        case .none: return
        case .all: for row in 0..<count { body(row) }
        case .rows(let set): set.forEach(body)
        }
    }
}
