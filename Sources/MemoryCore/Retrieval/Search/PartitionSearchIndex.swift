import Foundation
import MemoryStorage

/// The search structure of one partition state: int8 codes + float32 copies of the embeddings, BM25
/// postings, and filter columns. Built once per revision (``SearchIndexCache`` keeps them), immutable, so any
/// number of concurrent searches share one.
public final class PartitionSearchIndex: Sendable {
    /// The partition revision the index reflects.
    public let revision: UInt64
    let memories: [StoredMemory]
    let vectors: QuantizedVectors
    let bm25: BM25Index
    let columns: FilterColumns
    /// Rows that carry an expiration date (the only ones expiry can hide).
    let expiringRows: [Int]

    /// How many approximate candidates per requested result the vector scan keeps for exact rescoring.
    public static let rescoreFactor = 8
    /// Lower bound on the candidates each side proposes.
    public static let minimumCandidates = 64

    public init(state: PartitionState) {
        let memories = state.memories
        self.revision = state.revision
        self.memories = memories
        // The partition's dimension: the most common embedding length (a partition has one model; a stray
        // vector of another length is left out of the vector side rather than trusted).
        var lengths: [Int: Int] = [:]
        for m in memories { lengths[m.embedding.count, default: 0] += 1 }
        let dimension = lengths.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
        self.vectors = QuantizedVectors(vectors: memories.map(\.embedding), dimension: dimension)
        self.bm25 = BM25Index(documents: memories.map { ($0.id, $0.text) })
        self.columns = FilterColumns(memories: memories)
        self.expiringRows = memories.indices.filter { memories[$0].expirationDate != nil }
    }

    /// Number of memories indexed.
    public var count: Int { memories.count }
    /// Embedding dimension of the vector side (0 when the partition has no vectors).
    public var dimension: Int { vectors.dimension }
    /// Bytes an unfiltered vector scan reads (codes + scales), for benchmarks.
    public var scanBytes: Int { vectors.scanBytes }
    /// The BM25 postings (e.g. to serialise into a snapshot).
    public var keywordIndex: BM25Index { bm25 }

    /// The memories `filter` selects, visible at `now` (expired ones dropped unless `includeExpired`), in
    /// index order: list and delete-by-filter use the same evaluation as search.
    public func select(filter: MemoryFilter, now: Date, includeExpired: Bool) -> [StoredMemory] {
        var out: [StoredMemory] = []
        visibleRows(filter: filter, now: now, includeExpired: includeExpired).forEachRow(count: count) { out.append(memories[$0]) }
        return out
    }

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

    public func search(_ query: SearchQuery) -> [SearchHit] {
        let topK = max(0, query.topK)
        guard topK > 0, count > 0 else { return [] }
        let selection = visibleRows(filter: query.filter, now: query.now, includeExpired: query.includeExpired)
        if case .none = selection { return [] }
        let candidateLimit = max(topK * Self.rescoreFactor, Self.minimumCandidates)

        // Vector side.
        let prepared = query.vector.flatMap { $0.count == vectors.dimension ? QuantizedQuery($0) : nil }
        var approximate: [Int: Float] = [:]
        if query.mode != .keyword, let prepared {
            for c in vectors.approximateTop(prepared, limit: candidateLimit, selection: selection) {
                approximate[c.row] = c.score
            }
        }

        // Keyword side.
        let terms = query.mode == .vector ? [] : TextTokenizer.terms(query.text)
        let keyword = bm25.scores(queryTerms: terms, allowed: selection.contains)
        var keywordRaw: [Int: Double] = [:]
        if !keyword.rows.isEmpty {
            var best = TopCandidates(capacity: candidateLimit)
            for row in keyword.rows { best.insert(row: row, score: Float(keyword.score(row))) }
            for c in best.sortedDescending() { keywordRaw[c.row] = keyword.score(c.row) }
        }

        // Fuse over the union of both sides' candidates.
        let effectiveMode: SearchMode = prepared == nil ? .keyword : query.mode
        var hits: [(row: Int, hit: SearchHit)] = []
        for row in Set(approximate.keys).union(keywordRaw.keys) {
            var cosine: Double? = nil
            if let prepared, vectors.hasVector[row] { cosine = Double(vectors.exactDot(row: row, query: prepared.unit)) }
            let semantic = min(1, max(0, cosine ?? 0))
            let raw = keywordRaw[row] ?? 0
            let k = keyword.normalized(raw)
            let base = HybridScoring.fuse(semantic: semantic, keyword: k, mode: effectiveMode)
            let memory = memories[row]
            let age = query.now.timeIntervalSince(memory.updatedAt)
            var recency: Double? = nil
            var factor = 1.0
            if let h = query.recencyHalfLife, h > 0 {
                let r = HybridScoring.recency(ageSeconds: age, halfLife: h)
                recency = r
                factor = HybridScoring.recencyFactor(r)
            }
            let score = min(1, max(0, base * factor))
            if let threshold = query.threshold, score < threshold { continue }
            var explanation: SearchExplanation? = nil
            if query.explain {
                var sources: [String] = []
                if approximate[row] != nil { sources.append("vector") }
                if keywordRaw[row] != nil { sources.append("keyword") }
                explanation = SearchExplanation(
                    cosine: cosine,
                    approximateCosine: approximate[row].map { Double($0) * Double(prepared?.scale ?? 1) },
                    bm25Raw: raw, bm25Ideal: keyword.ideal,
                    matchedTerms: bm25.matchedTerms(row: row, queryTerms: terms), sources: sources,
                    scoreBeforeRecency: base, recencyFactor: factor, ageSeconds: age)
            }
            hits.append((row, SearchHit(memory: memory, score: score,
                                        breakdown: ScoreBreakdown(semantic: semantic, bm25: k, recency: recency),
                                        explanation: explanation)))
        }
        // Sort positions, not the (large) hits themselves: moving hits dominated small searches.
        let order = hits.indices.sorted { a, b in
            let x = hits[a], y = hits[b]
            return x.hit.score > y.hit.score || (x.hit.score == y.hit.score && x.row < y.row)
        }
        return order.prefix(topK).map { hits[$0].hit }
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
