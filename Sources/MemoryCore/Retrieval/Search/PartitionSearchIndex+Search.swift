import Foundation
import MemoryStorage

extension PartitionSearchIndex {
    /// The `query.topK` best memories (see ``HybridScoring``), best first; ties rank by state position.
    public func search(_ query: SearchQuery) -> [SearchHit] {
        let topK = max(0, query.topK)
        guard topK > 0, count > 0 else { return [] }
        let visible = visibleRows(filter: query.filter, now: query.now, includeExpired: query.includeExpired)
        if visible.isEmpty { return [] }
        let candidateLimit = max(topK * Self.rescoreFactor, Self.minimumCandidates)

        // Vector side.
        let prepared = query.vector.flatMap { $0.count == dimension ? QuantizedQuery($0) : nil }
        var approximate: [Int: Float] = [:]
        if query.mode != .keyword, let prepared {
            for c in approximateTop(prepared, limit: candidateLimit, visible: visible) { approximate[c.row] = c.score }
        }

        // Keyword side.
        let terms = query.mode == .vector ? [] : TextTokenizer.terms(query.text)
        let keyword = keywordTop(terms: terms, limit: candidateLimit, visible: visible)

        // Fuse over the union of both sides' candidates: score every candidate, then build hits (a copy of
        // the memory, the explanation) for the best `topK` only.
        let effectiveMode: SearchMode = prepared == nil ? .keyword : query.mode
        var scored: [FusedCandidate] = []
        scored.reserveCapacity(approximate.count + keyword.raw.count)
        for position in Set(approximate.keys).union(keyword.raw.keys) {
            let (segment, row) = locate(position)
            var cosine: Double? = nil
            if let prepared, segment.vectors.hasVector[row] {
                cosine = Double(segment.vectors.exactDot(row: row, query: prepared.unit))
            }
            let semantic = min(1, max(0, cosine ?? 0))
            let raw = keyword.raw[position] ?? 0
            let k = keyword.ideal > 0 ? min(1, raw / keyword.ideal) : 0
            let fused = HybridScoring.fuse(semantic: semantic, keyword: k, mode: effectiveMode)
            let age = query.now.timeIntervalSince(segment.memories[row].updatedAt)
            var recency: Double? = nil
            var factor = 1.0
            if let h = query.recencyHalfLife, h > 0 {
                let r = HybridScoring.recency(ageSeconds: age, halfLife: h)
                recency = r
                factor = HybridScoring.recencyFactor(r)
            }
            let score = min(1, max(0, fused * factor))
            if let threshold = query.threshold, score < threshold { continue }
            scored.append(FusedCandidate(position: position, score: score, cosine: cosine, semantic: semantic,
                                         bm25Raw: raw, bm25: k, fused: fused, recency: recency,
                                         recencyFactor: factor, ageSeconds: age))
        }
        scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position) }
        return scored.prefix(topK).map { c in
            let (segment, row) = locate(c.position)
            var explanation: SearchExplanation? = nil
            if query.explain {
                var sources: [String] = []
                if approximate[c.position] != nil { sources.append("vector") }
                if keyword.raw[c.position] != nil { sources.append("keyword") }
                explanation = SearchExplanation(
                    cosine: c.cosine,
                    approximateCosine: approximate[c.position].map { Double($0) * Double(prepared?.scale ?? 1) },
                    bm25Raw: c.bm25Raw, bm25Ideal: keyword.ideal,
                    matchedTerms: segment.bm25.matchedTerms(row: row, queryTerms: terms), sources: sources,
                    scoreBeforeRecency: c.fused, recencyFactor: c.recencyFactor, ageSeconds: c.ageSeconds)
            }
            return SearchHit(memory: segment.memories[row], score: c.score,
                             breakdown: ScoreBreakdown(semantic: c.semantic, bm25: c.bm25, recency: c.recency),
                             explanation: explanation)
        }
    }

    /// The `limit` visible rows with the best approximate similarity, as state positions. Each segment's
    /// scan keeps its own best `limit` (ties to the lower row, which is the lower position in both segments),
    /// so their union holds the overall best.
    private func approximateTop(_ query: QuantizedQuery, limit: Int, visible: VisibleRows) -> [ScoredRow] {
        let fromBase = base.vectors.approximateTop(query, limit: limit, selection: visible.base)
        guard let tail else { return fromBase }
        var best = TopCandidates(capacity: limit)
        for c in fromBase { best.insert(row: c.row, score: c.score) }
        for c in tail.segment.vectors.approximateTop(query, limit: limit, selection: visible.tail) {
            best.insert(row: tail.positions[c.row], score: c.score)
        }
        return best.sortedDescending()
    }

    /// The `limit` visible rows with the best BM25 scores (raw score by state position) and the query's ideal
    /// score, both with the whole partition's corpus figures.
    private func keywordTop(terms: [String], limit: Int, visible: VisibleRows) -> (raw: [Int: Double], ideal: Double) {
        var best = TopCandidates(capacity: limit)
        var raw: [Int: Double] = [:]
        guard let tail else {
            let distinct = Array(Set(terms)).sorted()
            guard base.bm25.documentCount > 0, !distinct.isEmpty else { return ([:], 0) }
            let scores = base.bm25.scores(distinctTerms: distinct, corpus: base.bm25.corpus(distinctTerms: distinct),
                                          selection: visible.base)
            for row in scores.rows { best.insert(row: row, score: Float(scores.score(row))) }
            for c in best.sortedDescending() { raw[c.row] = scores.score(c.row) }
            return (raw, scores.ideal)
        }
        let distinct = Array(Set(terms)).sorted()
        guard !distinct.isEmpty else { return ([:], 0) }
        let corpus = tail.corpus(distinctTerms: distinct, base: base.bm25)
        let fromBase = base.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.base)
        let fromTail = tail.segment.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.tail)
        for row in fromBase.rows { best.insert(row: row, score: Float(fromBase.score(row))) }
        for row in fromTail.rows { best.insert(row: tail.positions[row], score: Float(fromTail.score(row))) }
        for c in best.sortedDescending() {
            raw[c.row] = tail.row(atPosition: c.row).map(fromTail.score) ?? fromBase.score(c.row)
        }
        return (raw, fromBase.ideal)
    }
}

/// One candidate's scores during fusion (small, so ranking moves no memories).
private struct FusedCandidate {
    let position: Int
    let score: Double
    let cosine: Double?
    let semantic: Double
    let bm25Raw: Double
    let bm25: Double
    let fused: Double
    let recency: Double?
    let recencyFactor: Double
    let ageSeconds: Double
}
