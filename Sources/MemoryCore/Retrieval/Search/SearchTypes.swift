import Foundation
import MemoryStorage

/// Which signals rank a search.
public enum SearchMode: String, Sendable, CaseIterable {
    /// Vector similarity fused with BM25; either side can contribute candidates.
    case hybrid
    /// Vector similarity only (Mem0's classic search).
    case vector
    /// BM25 only (`keyword_search`); needs no query vector.
    case keyword
}

/// One search over one partition.
public struct SearchQuery: Sendable {
    /// The query text (tokenised for BM25).
    public var text: String
    /// The query embedding; `nil` makes a hybrid search keyword-only.
    public var vector: [Float]?
    public var topK: Int
    /// Minimum final score in [0, 1]; `nil` or 0 keeps everything.
    public var threshold: Double?
    public var filter: MemoryFilter
    public var mode: SearchMode
    /// Recency half-life in seconds; `nil` (the default) turns recency weighting off.
    public var recencyHalfLife: TimeInterval?
    /// The instant expiry and recency are judged at (Mem0's `reference_date`, else now).
    public var now: Date
    /// Return memories whose expiration date has passed.
    public var includeExpired: Bool
    /// Attach a ``SearchExplanation`` to each hit.
    public var explain: Bool
    /// How the signals are calibrated and combined (``RankingOptions/standard`` unless a caller measures).
    public var ranking: RankingOptions

    public init(
        text: String, vector: [Float]? = nil, topK: Int = 10, threshold: Double? = nil,
        filter: MemoryFilter = .all, mode: SearchMode = .hybrid, recencyHalfLife: TimeInterval? = nil,
        now: Date = Date(), includeExpired: Bool = false, explain: Bool = false,
        ranking: RankingOptions = .standard
    ) {
        self.text = text
        self.vector = vector
        self.topK = topK
        self.threshold = threshold
        self.filter = filter
        self.mode = mode
        self.recencyHalfLife = recencyHalfLife
        self.now = now
        self.includeExpired = includeExpired
        self.explain = explain
        self.ranking = ranking
    }
}

/// The signals behind a score (Mem0's `score_breakdown`), each in [0, 1].
public struct ScoreBreakdown: Sendable, Equatable {
    /// Cosine similarity clamped to [0, 1] (0 without a query vector).
    public var semantic: Double
    /// BM25 normalised by the query's ideal score (0 when no query term matches).
    public var bm25: Double
    /// 0.5^(age / half-life), or `nil` when recency weighting is off.
    public var recency: Double?

    public init(semantic: Double, bm25: Double, recency: Double?) {
        self.semantic = semantic
        self.bm25 = bm25
        self.recency = recency
    }
}

/// The raw inputs of a score, returned with `explain: true` (documented in `docs/retrieval.md`).
public struct SearchExplanation: Sendable, Equatable {
    /// Exact cosine similarity (unclamped), `nil` without a comparable query vector.
    public var cosine: Double?
    /// The int8 scan's approximate similarity, `nil` when the row did not come from the vector scan.
    public var approximateCosine: Double?
    /// Raw BM25 score and the query's ideal score it was divided by.
    public var bm25Raw: Double
    public var bm25Ideal: Double
    /// Query terms (after tokenising and stemming) this memory contains.
    public var matchedTerms: [String]
    /// Which sides proposed this memory: "vector", "keyword" or both.
    public var sources: [String]
    /// Score before the recency factor (after conversational context), and the factor applied (1 when off).
    public var scoreBeforeRecency: Double
    public var recencyFactor: Double
    /// Seconds between `updated_at` and the query's `now`.
    public var ageSeconds: Double
    /// The best fused score among the memory's conversational neighbours, each divided by its distance in
    /// turns (0 when it has none, or context is off), and the id of a newer memory that superseded it among
    /// the results, if any.
    public var neighbourScore: Double = 0
    public var supersededBy: UUID? = nil
}

/// One search result.
public struct SearchHit: Sendable {
    public var memory: StoredMemory
    /// Final score in [0, 1] (see ``HybridScoring``).
    public var score: Double
    public var breakdown: ScoreBreakdown
    /// Present when the query asked to explain.
    public var explanation: SearchExplanation?

    public init(memory: StoredMemory, score: Double, breakdown: ScoreBreakdown, explanation: SearchExplanation? = nil) {
        self.memory = memory
        self.score = score
        self.breakdown = breakdown
        self.explanation = explanation
    }
}
