import Foundation
import MemoryStorage

/// The search structures over one list of memories, addressed by row (position in that list): the embeddings'
/// int8 codes read in place from the memories' blocks (``QuantizedVectors``), BM25 postings and filter
/// columns. Immutable once built.
///
/// A ``PartitionSearchIndex`` is one segment over a whole partition state, or such a segment (the base) plus a
/// small segment over the memories changed since (the tail). A class: searches pass segments around per
/// candidate, and copying a struct of this many arrays (a retain each) measured 15 % of a small search.
final class SearchSegment: Sendable {
    let memories: [StoredMemory]
    let vectors: QuantizedVectors
    let bm25: BM25Index
    let columns: FilterColumns
    /// Rows that carry an expiration date (the only ones expiry can hide).
    let expiringRows: [Int]
    /// How many memories have each embedding length (to tell the partition's dimension after a change).
    let embeddingLengths: [Int: Int]

    /// Indexes `memories`, keeping vectors of length `dimension` only; `bm25` are their postings when already
    /// known (read from a snapshot), else they are built from the texts.
    init(memories: [StoredMemory], dimension: Int, bm25: BM25Index? = nil) {
        self.memories = memories
        self.vectors = QuantizedVectors(vectors: memories.map(\.vector), dimension: dimension)
        self.bm25 = bm25 ?? BM25Index(documents: memories.map { ($0.id, $0.text) })
        self.columns = FilterColumns(memories: memories)
        self.expiringRows = memories.indices.filter { memories[$0].expirationDate != nil }
        self.embeddingLengths = Self.lengthCounts(memories)
    }

    /// Indexes `memories` with the partition's dimension: the most common embedding length among them.
    convenience init(memories: [StoredMemory], bm25: BM25Index? = nil) {
        self.init(memories: memories, dimension: Self.dimension(of: Self.lengthCounts(memories)), bm25: bm25)
    }

    var count: Int { memories.count }

    static func lengthCounts(_ memories: [StoredMemory]) -> [Int: Int] {
        var lengths: [Int: Int] = [:]
        for m in memories { lengths[m.vector.dimension, default: 0] += 1 }
        return lengths
    }

    /// The partition's dimension: the most common embedding length (a partition has one model; a stray vector
    /// of another length is left out of the vector side rather than trusted); ties go to the shorter length.
    static func dimension(of lengthCounts: [Int: Int]) -> Int {
        lengthCounts.filter { $0.value > 0 }
            .max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
    }

    /// The rows `filter` selects that are visible at `now` (expired ones dropped unless `includeExpired`).
    func visibleRows(filter: MemoryFilter, now: Date, includeExpired: Bool) -> RowSelection {
        var selection = columns.evaluate(filter.root, memories: memories)
        if !includeExpired {
            let t = now.timeIntervalSince1970
            var expired = RowSet(count: count, filled: false)
            var anyExpired = false
            for row in expiringRows where columns.expiration[row] < t {
                expired[row] = true
                anyExpired = true
            }
            if anyExpired { selection = selection.intersection(RowSelection.rows(expired).inverted()) }
        }
        return selection
    }
}
