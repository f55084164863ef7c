import Foundation
import MemoryStorage

extension PartitionSearchIndex {
    /// The `query.topK` best memories (see ``HybridScoring`` and ``RankingOptions``), best first; ties rank by
    /// state position.
    public func search(_ query: SearchQuery) -> [SearchHit] {
        search(query, prepared: PreparedSearchQuery(query))
    }

    /// ``search(_:)`` with the query-only work done beforehand (`parts`, prepared from the same `query`): what a
    /// search over many partitions calls, so each partition does only its own part.
    public func search(_ query: SearchQuery, prepared parts: PreparedSearchQuery) -> [SearchHit] {
        let topK = max(0, query.topK)
        guard topK > 0, count > 0 else { return [] }
        let visible = visibleRows(filter: query.filter, now: query.now, includeExpired: query.includeExpired)
        if visible.isEmpty { return [] }
        let candidateLimit = max(topK * Self.rescoreFactor, Self.minimumCandidates)
        let ranking = query.ranking

        // Vector side.
        let prepared = parts.vector(dimension: dimension)
        var approximate: [ScoredRow] = []
        if query.mode != .keyword, let prepared {
            approximate = approximateTop(prepared, limit: candidateLimit, visible: visible)
        }

        // Keyword side.
        let terms = parts.terms
        let keyword = keywordSide(terms: terms, limit: candidateLimit, visible: visible, b: ranking.lengthNormalization)
        let keywordScale = ranking.keywordScale == .bestMatch ? keyword.best : keyword.ideal

        // Every signal of one memory, computed once per position (neighbours may be asked for several times):
        // `slots` numbers the positions looked at, `known[slot]` holds their signals.
        let effectiveMode: SearchMode = prepared == nil ? .keyword : query.mode
        func exactCosine(_ position: Int) -> Double? {
            let (segment, row) = locate(position)
            guard let prepared, segment.vectors.hasVector(row) else { return nil }
            return Double(segment.vectors.exactDot(row: row, query: prepared.unit))
        }
        let period = effectiveMode == .hybrid ? parts.period : QueryTimeReference("")
        let subjects = effectiveMode == .hybrid ? parts.subjects : QuerySubjects("")
        func computeSignals(_ position: Int) -> Signals {
            let cosine = exactCosine(position)
            let semantic = min(1, max(0, cosine ?? 0))
            let raw = keyword.raw(position, tail: tail)
            let k = keywordScale > 0 ? min(1, raw / keywordScale) : 0
            var fused = HybridScoring.fuse(semantic: semantic, keyword: k, mode: effectiveMode,
                                           keywordWeight: ranking.keywordWeight)
            if !period.isEmpty {
                let (segment, row) = locate(position)
                if period.matches(unixSeconds: segment.columns.createdAt[row]) {
                    fused = HybridScoring.noisyOr(fused, 1, weight: ranking.timeWeight)
                }
            }
            if !subjects.isEmpty {
                let (segment, row) = locate(position)
                if subjects.isSubject(of: segment.memories[row].text) {
                    fused = HybridScoring.noisyOr(fused, 1, weight: ranking.subjectWeight)
                }
            }
            return Signals(cosine: cosine, semantic: semantic, bm25Raw: raw, bm25: k, fused: fused)
        }
        var slots = PositionSlots(expected: 2 * (approximate.count + keyword.candidates.count))
        var known: [Signals] = []
        known.reserveCapacity(2 * (approximate.count + keyword.candidates.count))
        func signals(_ position: Int) -> Signals {
            if let slot = slots.slot(of: position) { return known[slot] }
            slots.insert(position)
            let computed = computeSignals(position)
            known.append(computed)
            return computed
        }

        // Candidates: both sides' best, plus (with conversational context) the neighbours of the best fused.
        // Until scoring starts only candidates have slots, so candidate `i` has slot `i`.
        var candidates: [Int] = []
        candidates.reserveCapacity(approximate.count + keyword.candidates.count)
        func addCandidate(_ position: Int) {
            guard slots.insert(position) else { return }
            known.append(computeSignals(position))
            candidates.append(position)
        }
        for c in approximate { addCandidate(c.row) }
        for position in keyword.candidates { addCandidate(position) }
        let useContext = effectiveMode == .hybrid && ranking.contextWeight > 0
        if useContext {
            let expanded = RankedSelection.best(count: candidates.count, limit: topK * RankingOptions.contextExpansion) {
                (known[$0].fused, candidates[$0])
            }
            for i in expanded {
                forEachNeighbour(of: candidates[i], visible: visible, ranking: ranking) { neighbour, _ in
                    addCandidate(neighbour)
                }
            }
        }

        var scored: [FusedCandidate] = []
        scored.reserveCapacity(candidates.count)
        for (i, position) in candidates.enumerated() {
            let s = known[i]
            var neighbourScore = 0.0
            if useContext {
                forEachNeighbour(of: position, visible: visible, ranking: ranking) { neighbour, distance in
                    neighbourScore = max(neighbourScore, signals(neighbour).fused / Double(distance))
                }
            }
            let contextual = useContext
                ? HybridScoring.noisyOr(s.fused, neighbourScore, weight: ranking.contextWeight) : s.fused
            var recency: Double? = nil
            var factor = 1.0
            if let h = query.recencyHalfLife, h > 0 {
                let r = HybridScoring.recency(ageSeconds: age(position, now: query.now), halfLife: h)
                recency = r
                factor = HybridScoring.recencyFactor(r)
            }
            let score = min(1, max(0, contextual * factor))
            scored.append(FusedCandidate(position: position, score: score, signals: s, contextual: contextual,
                                         neighbourScore: neighbourScore, recency: recency, recencyFactor: factor))
        }
        // The results are the best `topK` in ranking order (selected, not the whole list sorted). Supersession
        // reorders those only; a threshold may drop some of them, and then the next best that pass it follow.
        let best = RankedSelection.best(count: scored.count, limit: topK) { (scored[$0].score, scored[$0].position) }
        var ranked = best.map { scored[$0] }
        if query.mode == .hybrid, let similarity = ranking.supersedeSimilarity {
            supersede(&ranked, window: topK, similarity: similarity,
                      relevance: ranking.supersedeRelevance)
        }
        if let threshold = query.threshold {
            ranked.removeAll { $0.score < threshold }
            if ranked.count < topK, scored.count > best.count {
                var taken = [Bool](repeating: false, count: scored.count)
                for i in best { taken[i] = true }
                let rest = scored.indices.filter { !taken[$0] && scored[$0].score >= threshold }
                let next = RankedSelection.best(count: rest.count, limit: topK - ranked.count) {
                    (scored[rest[$0]].score, scored[rest[$0]].position)
                }
                ranked += next.map { scored[rest[$0]] }
            }
        }

        return ranked.map { c in
            let (segment, row) = locate(c.position)
            var explanation: SearchExplanation? = nil
            if query.explain {
                let fromScan = approximate.first { $0.row == c.position }
                var sources: [String] = []
                if fromScan != nil { sources.append("vector") }
                if keyword.candidates.contains(c.position) { sources.append("keyword") }
                if sources.isEmpty { sources.append("context") }
                explanation = SearchExplanation(
                    cosine: c.signals.cosine,
                    approximateCosine: fromScan.map { Double($0.score) * Double(prepared?.scale ?? 1) },
                    bm25Raw: c.signals.bm25Raw, bm25Ideal: keyword.ideal,
                    matchedTerms: segment.bm25.matchedTerms(row: row, queryTerms: terms), sources: sources,
                    scoreBeforeRecency: c.contextual, recencyFactor: c.recencyFactor,
                    ageSeconds: age(c.position, now: query.now),
                    neighbourScore: c.neighbourScore,
                    supersededBy: c.supersededBy.map { position in
                        let (newerSegment, newerRow) = locate(position)
                        return newerSegment.memories[newerRow].id
                    })
            }
            return SearchHit(memory: segment.memories[row], score: c.score,
                             breakdown: ScoreBreakdown(semantic: c.signals.semantic, bm25: c.signals.bm25,
                                                       recency: c.recency),
                             explanation: explanation)
        }
    }

    /// Seconds from the memory at `position`'s `updated_at` to `now` (read only where recency or an
    /// explanation needs it).
    private func age(_ position: Int, now: Date) -> Double {
        let (segment, row) = locate(position)
        return now.timeIntervalSince(segment.memories[row].updatedAt)
    }

    /// Calls `body(position, distance)` for each conversational neighbour of the memory at `position`: the
    /// visible memories up to `ranking.contextReach` before and after it in write order (state position),
    /// walking out while each next memory carries the same scopes and was created within
    /// `ranking.contextWindow` seconds of the one before — the turns around it in the same conversation.
    /// Reads the date and scope-key columns only (no memory copies, no allocation: it runs per candidate); the
    /// scopes themselves only across the base/tail boundary, where the segments' keys differ.
    func forEachNeighbour(of position: Int, visible: VisibleRows, ranking: RankingOptions,
                          _ body: (_ position: Int, _ distance: Int) -> Void) {
        let (segment, row) = locate(position)
        let reach = max(1, ranking.contextReach)
        let scopeKey = segment.columns.scopeKeys[row]
        for step in stride(from: -1, through: 1, by: 2) {
            var previous = segment.columns.createdAt[row]
            for distance in 1...reach {
                let next = position + step * distance
                guard next >= 0, next < count else { break }
                let (otherSegment, otherRow) = locate(next)
                let created = otherSegment.columns.createdAt[otherRow]
                let sameScopes = otherSegment === segment
                    ? otherSegment.columns.scopeKeys[otherRow] == scopeKey
                    : otherSegment.memories[otherRow].scopes == segment.memories[row].scopes
                guard abs(created - previous) <= ranking.contextWindow, sameScopes else { break }
                previous = created
                let shown = otherSegment === base ? visible.base.contains(otherRow) : visible.tail.contains(otherRow)
                if shown { body(next, distance) }
            }
        }
    }

    /// Current state over stale state: among the best `window` hits (the results: supersession reorders them,
    /// never changes which memories are returned), when a newer memory's embedding is at least
    /// `similarity` close to an older one's (the same subject restated) and its own score is at least
    /// `relevance` of the older's (it answers the query nearly as well), the newer takes the older's score if
    /// that is higher and the older drops just below it. Re-sorts those `window` hits only, so the set returned
    /// stays the same.
    private func supersede(_ scored: inout [FusedCandidate], window: Int, similarity: Double, relevance: Double) {
        let n = min(window, scored.count)
        guard n > 1 else { return }
        let located = scored.prefix(n).map { locate($0.position) }
        let original = scored.prefix(n).map(\.score)
        var changed = false
        for older in 0..<n {
            let (olderSegment, olderRow) = located[older]
            guard olderSegment.vectors.hasVector(olderRow) else { continue }
            let olderCreated = olderSegment.columns.createdAt[olderRow]
            for newer in 0..<n where newer != older {
                let (newerSegment, newerRow) = located[newer]
                guard original[newer] >= relevance * original[older],
                      newerSegment.vectors.hasVector(newerRow),
                      newerSegment.columns.createdAt[newerRow] > olderCreated,
                      Double(olderSegment.vectors.exactDot(row: olderRow, with: newerSegment.vectors, row: newerRow))
                        >= similarity else { continue }
                scored[newer].score = max(scored[newer].score, original[older])
                scored[older].score = min(scored[older].score, original[older] * Self.supersededShare)
                if scored[older].supersededBy == nil { scored[older].supersededBy = scored[newer].position }
                changed = true
            }
        }
        if changed { scored[0..<n].sort(by: FusedCandidate.ranksBefore) }
    }

    /// The share of its score a superseded memory keeps (just below the memory that superseded it).
    static let supersededShare = 0.95

    /// The `limit` visible rows with the best approximate similarity, as state positions, in no particular
    /// order. Each segment's scan keeps its own best `limit` (ties to the lower row, which is the lower
    /// position in both segments), so their union holds the overall best.
    private func approximateTop(_ query: QuantizedQuery, limit: Int, visible: VisibleRows) -> [ScoredRow] {
        let fromBase = base.vectors.approximateTop(query, limit: limit, selection: visible.base, ordered: false)
        guard let tail else { return fromBase }
        var best = TopCandidates(capacity: limit)
        for c in fromBase { best.insert(row: c.row, score: c.score) }
        for c in tail.segment.vectors.approximateTop(query, limit: limit, selection: visible.tail, ordered: false) {
            best.insert(row: tail.positions[c.row], score: c.score)
        }
        return best.unordered
    }

    /// BM25 over the visible rows with the whole partition's corpus figures: the `limit` best rows (state
    /// positions, in no particular order), the query's ideal score, and every visible row's raw score on demand.
    private func keywordSide(terms: [String], limit: Int, visible: VisibleRows, b: Double) -> KeywordSide {
        var best = TopCandidates(capacity: limit)
        let distinct = Array(Set(terms)).sorted()
        guard let tail else {
            guard base.bm25.documentCount > 0, !distinct.isEmpty else { return .empty }
            let scores = base.bm25.scores(distinctTerms: distinct, corpus: base.bm25.corpus(distinctTerms: distinct),
                                          selection: visible.base, b: b)
            for row in scores.rows { best.insert(row: row, score: Float(scores.score(row))) }
            return KeywordSide(candidates: best.unordered.map(\.row), ideal: scores.ideal, fromBase: scores,
                               fromTail: nil, tail: nil)
        }
        guard !distinct.isEmpty else { return .empty }
        let corpus = tail.corpus(distinctTerms: distinct, base: base.bm25)
        let fromBase = base.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.base, b: b)
        let fromTail = tail.segment.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.tail, b: b)
        for row in fromBase.rows { best.insert(row: row, score: Float(fromBase.score(row))) }
        for row in fromTail.rows { best.insert(row: tail.positions[row], score: Float(fromTail.score(row))) }
        return KeywordSide(candidates: best.unordered.map(\.row), ideal: fromBase.ideal, fromBase: fromBase,
                           fromTail: fromTail, tail: tail)
    }
}

/// The keyword side of one search: its best candidates, the query's ideal score, the best raw score, and the
/// scores of every row (for memories proposed by the vector side or as conversational neighbours).
private struct KeywordSide {
    /// State positions of the best keyword matches, in no particular order.
    let candidates: [Int]
    let ideal: Double
    let fromBase: BM25Scores?
    let fromTail: BM25Scores?
    /// The best raw score among the visible memories (the best of ``candidates``).
    let best: Double

    init(candidates: [Int], ideal: Double, fromBase: BM25Scores?, fromTail: BM25Scores?, tail: IndexTail?) {
        self.candidates = candidates
        self.ideal = ideal
        self.fromBase = fromBase
        self.fromTail = fromTail
        var best = 0.0
        for position in candidates { best = max(best, Self.raw(position, tail: tail, fromBase: fromBase, fromTail: fromTail)) }
        self.best = best
    }

    static let empty = KeywordSide(candidates: [], ideal: 0, fromBase: nil, fromTail: nil, tail: nil)

    /// The raw BM25 score of the memory at state position `position`.
    func raw(_ position: Int, tail: IndexTail?) -> Double {
        Self.raw(position, tail: tail, fromBase: fromBase, fromTail: fromTail)
    }

    private static func raw(_ position: Int, tail: IndexTail?, fromBase: BM25Scores?, fromTail: BM25Scores?) -> Double {
        if let tail, let row = tail.row(atPosition: position) { return fromTail?.score(row) ?? 0 }
        return fromBase?.score(position) ?? 0
    }
}
/// The signals of one memory for one query, before conversational context and recency.
private struct Signals {
    let cosine: Double?
    let semantic: Double
    let bm25Raw: Double
    let bm25: Double
    let fused: Double
}

/// One candidate's scores during ranking (small, so ranking moves no memories).
private struct FusedCandidate {
    let position: Int
    var score: Double
    let signals: Signals
    /// The fused score lifted by conversational context (before recency).
    let contextual: Double
    let neighbourScore: Double
    let recency: Double?
    let recencyFactor: Double
    /// The state position of the newer memory that superseded this one.
    var supersededBy: Int? = nil

    static func ranksBefore(_ a: FusedCandidate, _ b: FusedCandidate) -> Bool {
        a.score > b.score || (a.score == b.score && a.position < b.position)
    }
}
