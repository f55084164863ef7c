import Foundation
import MemoryStorage

/// What a derived ``PartitionSearchIndex`` adds to its base: which base rows are still current, and a small
/// segment over every other memory of the new state (those added or updated since the base, and the few
/// untouched ones a removal moved to another position), in state-position order.
///
/// Built in time proportional to the change, relying on how ``PartitionState/apply(_:)`` moves memories
/// (documented on ``PartitionState/journal``): with `J` journal entries since the base, a base row `r < n − J`
/// whose memory no change touched still holds the same memory at the same position, so only the touched base
/// rows and the positions from `n − J` up need looking at.
struct IndexTail: Sendable {
    /// The state's memories that are not current base rows, in position order.
    let segment: SearchSegment
    /// The state position of each ``segment`` row, ascending.
    let positions: [Int]
    /// Base rows whose memory is still at the same position with the same content.
    let currentBaseRows: RowSelection
    /// BM25 figures of the base rows that are no longer current: their total length and, per term, how many
    /// of them contain it (so the corpus figures of the new state are base − stale + tail).
    let staleLength: UInt64
    let staleDocumentFrequencies: [String: Int]
    /// Number of memories in the new state.
    let documentCount: Int

    /// The tail that brings `base` (built from a state whose positions were `basePositions`) up to `state`,
    /// given the journal `changes` between the two; `nil` when more than `maximumChanged` distinct memories
    /// changed, the partition's embedding dimension changed, or the positions do not add up (then the caller
    /// rebuilds).
    init?(base: SearchSegment, basePositions: MemoryPositions, state: PartitionState,
          changes: ArraySlice<ChangeJournal.Change>, maximumChanged: Int) {
        let baseCount = base.count, count = state.memories.count
        var touched = Set<UUID>(minimumCapacity: changes.count)
        for change in changes {
            touched.insert(change.memoryId)
            if touched.count > maximumChanged { return nil }
        }
        // Below `stable`, an untouched base row keeps its position and content.
        let stable = max(0, baseCount - changes.count)
        var stale = RowSet(count: baseCount, filled: false)
        var positions: [Int] = []
        for id in touched {
            guard let row = basePositions[id] else { continue }
            stale[row] = true
            if row < stable { positions.append(row) }
        }
        for position in stable..<max(baseCount, count) {
            let current = position < baseCount && position < count && !stale[position]
                && state.memories[position].id == base.memories[position].id
            if current { continue }
            if position < baseCount { stale[position] = true }
            if position < count { positions.append(position) }
        }
        positions.sort()
        // Every touched memory still live must be in the tail, and the two parts must cover the state exactly.
        let staleCount = stale.cardinality
        guard baseCount - staleCount + positions.count == count else { return nil }
        for id in touched {
            if let position = state.positions[id], position < stable, !stale[position] { return nil }
        }

        let memories = positions.map { state.memories[$0] }
        var lengths = base.embeddingLengths
        var staleLength: UInt64 = 0
        var staleFrequencies: [String: Int] = [:]
        stale.forEach { row in
            let memory = base.memories[row]
            lengths[memory.vector.dimension, default: 0] -= 1
            staleLength += UInt64(base.bm25.documentLengths[row])
            for term in Set(TextTokenizer.terms(memory.text)) { staleFrequencies[term, default: 0] += 1 }
        }
        for memory in memories { lengths[memory.vector.dimension, default: 0] += 1 }
        guard SearchSegment.dimension(of: lengths) == base.vectors.dimension else { return nil }

        var current = stale
        current.invert()
        self.segment = SearchSegment(memories: memories, dimension: base.vectors.dimension)
        self.positions = positions
        self.currentBaseRows = staleCount == 0 ? .all : (staleCount == baseCount ? .none : .rows(current))
        self.staleLength = staleLength
        self.staleDocumentFrequencies = staleFrequencies
        self.documentCount = count
    }

    /// The tail row holding state position `position`, or `nil` when that position is a current base row.
    func row(atPosition position: Int) -> Int? {
        var lo = 0, hi = positions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if positions[mid] < position { lo = mid + 1 } else { hi = mid }
        }
        return lo < positions.count && positions[lo] == position ? lo : nil
    }

    /// The new state's BM25 corpus figures for `distinctTerms`: base − stale rows + tail.
    func corpus(distinctTerms: [String], base: BM25Index) -> BM25Corpus {
        var frequencies: [String: Int] = [:]
        for term in distinctTerms {
            frequencies[term] = base.documentFrequency(term) - (staleDocumentFrequencies[term] ?? 0)
                + segment.bm25.documentFrequency(term)
        }
        return BM25Corpus(documentCount: documentCount,
                          totalLength: base.totalLength - staleLength + segment.bm25.totalLength,
                          documentFrequencies: frequencies)
    }
}
