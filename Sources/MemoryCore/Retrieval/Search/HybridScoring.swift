import Foundation

/// The one fused score (all inputs and the result in [0, 1]):
///
/// - semantic `s = clamp(cosine, 0, 1)`; keyword `k = min(1, bm25 / ideal)`;
/// - hybrid: `f = s + (1 − s) · β · k` (β = ``RankingOptions/keywordWeight``, 0.5 by default) — a "noisy OR":
///   keyword evidence lifts a memory towards 1 without ever lowering a pure semantic match, and a keyword-only
///   match scores up to β;
/// - conversational context (``RankingOptions/contextWeight`` γ): `f + (1 − f) · γ · n`, n the best neighbour's
///   fused score, the same noisy OR;
/// - vector mode: `f = s`; keyword mode: `f = k`;
/// - recency (when a half-life `h` is given): `r = 0.5^(age / h)`, final `= f · (1 − ρ + ρ · r)` with ρ = 0.5,
///   so a memory never loses more than half its score to age.
public enum HybridScoring {
    /// β of the standard ranking.
    public static let keywordWeight = RankingOptions.standard.keywordWeight
    public static let recencyWeight = 0.5

    public static func fuse(semantic s: Double, keyword k: Double, mode: SearchMode,
                            keywordWeight β: Double = keywordWeight) -> Double {
        switch mode {
        case .vector: return s
        case .keyword: return k
        case .hybrid: return noisyOr(s, k, weight: β)
        }
    }

    /// `a + (1 − a) · w · b`: `b` lifts `a` towards 1 by at most the share `w` of the distance left.
    public static func noisyOr(_ a: Double, _ b: Double, weight w: Double) -> Double {
        a + (1 - a) * w * b
    }

    /// 0.5^(age / halfLife), with negative ages (future timestamps) counted as 0.
    public static func recency(ageSeconds: Double, halfLife: Double) -> Double {
        guard halfLife > 0 else { return 1 }
        return pow(0.5, max(0, ageSeconds) / halfLife)
    }

    public static func recencyFactor(_ r: Double) -> Double {
        1 - recencyWeight + recencyWeight * r
    }
}
