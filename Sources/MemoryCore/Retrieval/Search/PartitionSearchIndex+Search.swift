import Foundation
import MemoryStorage

extension PartitionSearchIndex {
    /// The `query.topK` best memories (see ``HybridScoring`` and ``RankingOptions``), best first; ties rank by
    /// state position.
    public func search(_ query: SearchQuery) -> [SearchHit] {
        let topK = max(0, query.topK)
        guard topK > 0, count > 0 else { return [] }
        let visible = visibleRows(filter: query.filter, now: query.now, includeExpired: query.includeExpired)
        if visible.isEmpty { return [] }
        let candidateLimit = max(topK * Self.rescoreFactor, Self.minimumCandidates)
        let ranking = query.ranking

        // Vector side.
        let prepared = query.vector.flatMap { $0.count == dimension ? QuantizedQuery($0) : nil }
        var approximate: [Int: Float] = [:]
        if query.mode != .keyword, let prepared {
            for c in approximateTop(prepared, limit: candidateLimit, visible: visible) { approximate[c.row] = c.score }
        }

        // Keyword side.
        let terms = query.mode == .vector ? [] : TextTokenizer.terms(query.text)
        let keyword = keywordSide(terms: terms, limit: candidateLimit, visible: visible, b: ranking.lengthNormalization)
        let keywordScale = ranking.keywordScale == .bestMatch ? keyword.best : keyword.ideal

        // Every signal of one memory, computed once per position (neighbours may be asked for several times).
        let effectiveMode: SearchMode = prepared == nil ? .keyword : query.mode
        func exactCosine(_ position: Int) -> Double? {
            let (segment, row) = locate(position)
            guard let prepared, segment.vectors.hasVector(row) else { return nil }
            return Double(segment.vectors.exactDot(row: row, query: prepared.unit))
        }
        let period = ranking.timeWeight > 0 && effectiveMode == .hybrid ? QueryTimeReference(query.text) : QueryTimeReference("")
        let subjects = ranking.subjectWeight > 0 && effectiveMode == .hybrid ? QuerySubjects(query.text) : QuerySubjects("")
        var signalsByPosition: [Int: Signals] = [:]
        signalsByPosition.reserveCapacity(2 * (approximate.count + keyword.candidates.count))
        func signals(_ position: Int) -> Signals {
            if let known = signalsByPosition[position] { return known }
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
            let computed = Signals(cosine: cosine, semantic: semantic, bm25Raw: raw, bm25: k, fused: fused)
            signalsByPosition[position] = computed
            return computed
        }

        // Candidates: both sides' best, plus (with conversational context) the neighbours of the best fused.
        var candidates = Array(Set(approximate.keys).union(keyword.candidates.keys))
        let useContext = effectiveMode == .hybrid && ranking.contextWeight > 0
        if useContext {
            var byFused: [(position: Int, fused: Double)] = candidates.map { ($0, signals($0).fused) }
            byFused.sort { (a: (position: Int, fused: Double), b: (position: Int, fused: Double)) -> Bool in
                a.fused > b.fused || (a.fused == b.fused && a.position < b.position)
            }
            var known = Set(candidates)
            for (position, _) in byFused.prefix(topK * RankingOptions.contextExpansion) {
                forEachNeighbour(of: position, visible: visible, ranking: ranking) { neighbour, _ in
                    if known.insert(neighbour).inserted { candidates.append(neighbour) }
                }
            }
        }

        var scored: [FusedCandidate] = []
        scored.reserveCapacity(candidates.count)
        for position in candidates {
            let s = signals(position)
            var neighbourScore = 0.0
            if useContext {
                forEachNeighbour(of: position, visible: visible, ranking: ranking) { neighbour, distance in
                    neighbourScore = max(neighbourScore, signals(neighbour).fused / Double(distance))
                }
            }
            let contextual = useContext
                ? HybridScoring.noisyOr(s.fused, neighbourScore, weight: ranking.contextWeight) : s.fused
            let (segment, row) = locate(position)
            let age = query.now.timeIntervalSince(segment.memories[row].updatedAt)
            var recency: Double? = nil
            var factor = 1.0
            if let h = query.recencyHalfLife, h > 0 {
                let r = HybridScoring.recency(ageSeconds: age, halfLife: h)
                recency = r
                factor = HybridScoring.recencyFactor(r)
            }
            let score = min(1, max(0, contextual * factor))
            scored.append(FusedCandidate(position: position, score: score, signals: s, contextual: contextual,
                                         neighbourScore: neighbourScore, recency: recency, recencyFactor: factor,
                                         ageSeconds: age))
        }
        scored.sort(by: FusedCandidate.ranksBefore)
        if query.mode == .hybrid, let similarity = ranking.supersedeSimilarity {
            supersede(&scored, window: topK, similarity: similarity,
                      relevance: ranking.supersedeRelevance)
        }
        if let threshold = query.threshold { scored.removeAll { $0.score < threshold } }

        return scored.prefix(topK).map { c in
            let (segment, row) = locate(c.position)
            var explanation: SearchExplanation? = nil
            if query.explain {
                var sources: [String] = []
                if approximate[c.position] != nil { sources.append("vector") }
                if keyword.candidates[c.position] != nil { sources.append("keyword") }
                if sources.isEmpty { sources.append("context") }
                explanation = SearchExplanation(
                    cosine: c.signals.cosine,
                    approximateCosine: approximate[c.position].map { Double($0) * Double(prepared?.scale ?? 1) },
                    bm25Raw: c.signals.bm25Raw, bm25Ideal: keyword.ideal,
                    matchedTerms: segment.bm25.matchedTerms(row: row, queryTerms: terms), sources: sources,
                    scoreBeforeRecency: c.contextual, recencyFactor: c.recencyFactor, ageSeconds: c.ageSeconds,
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

    /// Calls `body(position, distance)` for each conversational neighbour of the memory at `position`: the
    /// visible memories up to `ranking.contextReach` before and after it in write order (state position),
    /// walking out while each next memory carries the same scopes and was created within
    /// `ranking.contextWindow` seconds of the one before — the turns around it in the same conversation.
    /// Reads the date column and the scopes only (no memory copies, no allocation: it runs per candidate).
    func forEachNeighbour(of position: Int, visible: VisibleRows, ranking: RankingOptions,
                          _ body: (_ position: Int, _ distance: Int) -> Void) {
        let (segment, row) = locate(position)
        let reach = max(1, ranking.contextReach)
        for step in stride(from: -1, through: 1, by: 2) {
            var previous = segment.columns.createdAt[row]
            for distance in 1...reach {
                let next = position + step * distance
                guard next >= 0, next < count else { break }
                let (otherSegment, otherRow) = locate(next)
                let created = otherSegment.columns.createdAt[otherRow]
                guard abs(created - previous) <= ranking.contextWindow,
                      otherSegment.memories[otherRow].scopes == segment.memories[row].scopes else { break }
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

    /// BM25 over the visible rows with the whole partition's corpus figures: the `limit` best rows (raw score
    /// by state position), the query's ideal score, and every visible row's raw score on demand.
    private func keywordSide(terms: [String], limit: Int, visible: VisibleRows, b: Double) -> KeywordSide {
        var best = TopCandidates(capacity: limit)
        var raw: [Int: Double] = [:]
        let distinct = Array(Set(terms)).sorted()
        guard let tail else {
            guard base.bm25.documentCount > 0, !distinct.isEmpty else { return .empty }
            let scores = base.bm25.scores(distinctTerms: distinct, corpus: base.bm25.corpus(distinctTerms: distinct),
                                          selection: visible.base, b: b)
            for row in scores.rows { best.insert(row: row, score: Float(scores.score(row))) }
            for c in best.sortedDescending() { raw[c.row] = scores.score(c.row) }
            return KeywordSide(candidates: raw, ideal: scores.ideal, fromBase: scores, fromTail: nil)
        }
        guard !distinct.isEmpty else { return .empty }
        let corpus = tail.corpus(distinctTerms: distinct, base: base.bm25)
        let fromBase = base.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.base, b: b)
        let fromTail = tail.segment.bm25.scores(distinctTerms: distinct, corpus: corpus, selection: visible.tail, b: b)
        for row in fromBase.rows { best.insert(row: row, score: Float(fromBase.score(row))) }
        for row in fromTail.rows { best.insert(row: tail.positions[row], score: Float(fromTail.score(row))) }
        for c in best.sortedDescending() {
            raw[c.row] = tail.row(atPosition: c.row).map(fromTail.score) ?? fromBase.score(c.row)
        }
        return KeywordSide(candidates: raw, ideal: fromBase.ideal, fromBase: fromBase, fromTail: fromTail)
    }
}

/// The keyword side of one search: its best candidates, the query's ideal score, the best raw score, and the
/// scores of every row (for memories proposed by the vector side or as conversational neighbours).
private struct KeywordSide {
    let candidates: [Int: Double]
    let ideal: Double
    let fromBase: BM25Scores?
    let fromTail: BM25Scores?
    /// The best raw score among the visible memories (the keyword side's first candidate).
    let best: Double

    init(candidates: [Int: Double], ideal: Double, fromBase: BM25Scores?, fromTail: BM25Scores?) {
        self.candidates = candidates
        self.ideal = ideal
        self.fromBase = fromBase
        self.fromTail = fromTail
        self.best = candidates.values.max() ?? 0
    }

    static let empty = KeywordSide(candidates: [:], ideal: 0, fromBase: nil, fromTail: nil)

    /// The raw BM25 score of the memory at state position `position`.
    func raw(_ position: Int, tail: IndexTail?) -> Double {
        if let known = candidates[position] { return known }
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
    let ageSeconds: Double
    /// The state position of the newer memory that superseded this one.
    var supersededBy: Int? = nil

    static func ranksBefore(_ a: FusedCandidate, _ b: FusedCandidate) -> Bool {
        a.score > b.score || (a.score == b.score && a.position < b.position)
    }
}
