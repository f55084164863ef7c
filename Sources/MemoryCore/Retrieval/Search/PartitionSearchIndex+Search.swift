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

        // Fuse over the union of both sides' candidates.
        let effectiveMode: SearchMode = prepared == nil ? .keyword : query.mode
        var hits: [(position: Int, hit: SearchHit)] = []
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
            let memory = segment.memories[row]
            let age = query.now.timeIntervalSince(memory.updatedAt)
            var recency: Double? = nil
            var factor = 1.0
            if let h = query.recencyHalfLife, h > 0 {
                let r = HybridScoring.recency(ageSeconds: age, halfLife: h)
                recency = r
                factor = HybridScoring.recencyFactor(r)
            }
            let score = min(1, max(0, fused * factor))
            if let threshold = query.threshold, score < threshold { continue }
            var explanation: SearchExplanation? = nil
            if query.explain {
                var sources: [String] = []
                if approximate[position] != nil { sources.append("vector") }
                if keyword.raw[position] != nil { sources.append("keyword") }
                explanation = SearchExplanation(
                    cosine: cosine,
                    approximateCosine: approximate[position].map { Double($0) * Double(prepared?.scale ?? 1) },
                    bm25Raw: raw, bm25Ideal: keyword.ideal,
                    matchedTerms: segment.bm25.matchedTerms(row: row, queryTerms: terms), sources: sources,
                    scoreBeforeRecency: fused, recencyFactor: factor, ageSeconds: age)
            }
            hits.append((position, SearchHit(memory: memory, score: score,
                                             breakdown: ScoreBreakdown(semantic: semantic, bm25: k, recency: recency),
                                             explanation: explanation)))
        }
        // Sort positions, not the (large) hits themselves: moving hits dominated small searches.
        let order = hits.indices.sorted { a, b in
            let x = hits[a], y = hits[b]
            return x.hit.score > y.hit.score || (x.hit.score == y.hit.score && x.position < y.position)
        }
        return order.prefix(topK).map { hits[$0].hit }
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
            let scores = base.bm25.scores(queryTerms: terms, allowed: visible.base.contains)
            for row in scores.rows { best.insert(row: row, score: Float(scores.score(row))) }
            for c in best.sortedDescending() { raw[c.row] = scores.score(c.row) }
            return (raw, scores.ideal)
        }
        let distinct = Array(Set(terms)).sorted()
        guard !distinct.isEmpty else { return ([:], 0) }
        let corpus = tail.corpus(distinctTerms: distinct, base: base.bm25)
        let fromBase = base.bm25.scores(distinctTerms: distinct, corpus: corpus, allowed: visible.base.contains)
        let fromTail = tail.segment.bm25.scores(distinctTerms: distinct, corpus: corpus, allowed: visible.tail.contains)
        for row in fromBase.rows { best.insert(row: row, score: Float(fromBase.score(row))) }
        for row in fromTail.rows { best.insert(row: tail.positions[row], score: Float(fromTail.score(row))) }
        for c in best.sortedDescending() {
            raw[c.row] = tail.row(atPosition: c.row).map(fromTail.score) ?? fromBase.score(c.row)
        }
        return (raw, fromBase.ideal)
    }
}
