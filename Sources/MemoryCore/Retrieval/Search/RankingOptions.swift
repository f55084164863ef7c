import Foundation

/// How a hybrid search turns its signals into one ranking (see `docs/retrieval.md`, "Ranking"). Each knob is a
/// general principle measured on the LoCoMo development split (`memory-bench quality`); ``standard`` is the
/// best general setting and ``baseline`` the ranking before those measurements, kept so the benchmark can
/// show what each change adds.
public struct RankingOptions: Sendable, Equatable {
    /// What the raw BM25 score is divided by to get the keyword score `k` in [0, 1].
    public enum KeywordScale: String, Sendable, CaseIterable {
        /// Σ idf over the query's terms: what an average-length memory containing every term once scores.
        /// Rarely reached, so `k` stays small and the keyword side is under-weighted.
        case ideal
        /// The best raw score among the visible memories for this query: the best keyword match scores 1,
        /// like the best semantic match sits near the top of the cosine range.
        case bestMatch
    }

    /// How the keyword score is calibrated against the semantic one.
    public var keywordScale: KeywordScale
    /// BM25's length normalisation b (0: none, 1: full). Memories are short, and a longer one usually carries
    /// more facts rather than more filler, so the standard ranking uses 0.3 rather than the classic 0.75.
    public var lengthNormalization: Double

    /// β in the noisy-OR fusion `f = s + (1 − s) · β · k`.
    public var keywordWeight: Double
    /// γ: a memory's score is lifted by its best conversational neighbour's,
    /// `f + (1 − f) · γ · max f(neighbour)`; 0 turns conversational context off.
    public var contextWeight: Double
    /// Two memories are conversational neighbours when they are at most ``contextReach`` apart in write order,
    /// every memory between and including them carries the same scopes, and consecutive ones were created at
    /// most this many seconds apart (one conversation).
    public var contextWindow: TimeInterval
    /// How many turns before and after a memory count as its neighbours; a neighbour `d` turns away counts
    /// with its score divided by `d`.
    public var contextReach: Int
    /// δ: a memory whose event time (`created_at`) falls in a month or year the query names ("in May",
    /// "in 2022") is lifted, `f + (1 − f) · δ`; 0 turns it off.
    public var timeWeight: Double
    /// σ: a memory whose subject (its first word) is a name the query asks about is lifted, `f + (1 − f) · σ`
    /// (``QuerySubjects``); 0 turns it off.
    public var subjectWeight: Double
    /// Among the best hits, an older memory whose embedding is at least this similar to a newer one's (the
    /// same subject restated later) is treated as superseded: the newer inherits its rank. `nil` turns
    /// supersession off.
    public var supersedeSimilarity: Double?
    /// ...provided the newer memory answers the query nearly as well on its own: its score is at least this
    /// share of the older one's (so "I like coffee" does not displace "I like tea" for a query about tea).
    public var supersedeRelevance: Double

    public init(keywordScale: KeywordScale, lengthNormalization: Double, keywordWeight: Double, contextWeight: Double,
                contextWindow: TimeInterval, contextReach: Int = 1, timeWeight: Double = 0, subjectWeight: Double = 0, supersedeSimilarity: Double?,
                supersedeRelevance: Double = 0.6) {
        self.keywordScale = keywordScale
        self.lengthNormalization = lengthNormalization
        self.keywordWeight = keywordWeight
        self.contextWeight = contextWeight
        self.contextWindow = contextWindow
        self.contextReach = contextReach
        self.timeWeight = timeWeight
        self.subjectWeight = subjectWeight
        self.supersedeSimilarity = supersedeSimilarity
        self.supersedeRelevance = supersedeRelevance
    }

    /// The ranking before the quality benchmark: ideal-normalised BM25 with b = 0.75, β = 0.5, no context, no
    /// time matching, no supersession.
    public static let baseline = RankingOptions(keywordScale: .ideal, lengthNormalization: 0.75, keywordWeight: 0.5, contextWeight: 0,
                                                contextWindow: 1_800, supersedeSimilarity: nil)

    /// The default ranking (values and their measured effect in `docs/retrieval.md`, "Ranking").
    public static let standard = RankingOptions(keywordScale: .bestMatch, lengthNormalization: 0.3, keywordWeight: 0.5, contextWeight: 0.5,
                                                contextWindow: 1_800, contextReach: 1, timeWeight: 0.35, subjectWeight: 0.35,
                                                supersedeSimilarity: 0.75, supersedeRelevance: 0.6)

    /// How many of the best fused candidates have their conversational neighbours added as candidates, per
    /// requested result (1, 2 and 4 measured alike on the dev split: the neighbours of the results suffice).
    static let contextExpansion = 2
}
