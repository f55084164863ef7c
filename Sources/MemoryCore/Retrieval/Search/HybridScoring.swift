import Foundation

/// The one fused score (all inputs and the result in [0, 1]):
///
/// - semantic `s = clamp(cosine, 0, 1)`; keyword `k = min(1, bm25 / ideal)`;
/// - hybrid: `f = s + (1 − s) · β · k` with β = 0.5 — a "noisy OR": keyword evidence lifts a memory towards 1
///   without ever lowering a pure semantic match, and a keyword-only match scores up to 0.5;
/// - vector mode: `f = s`; keyword mode: `f = k`;
/// - recency (when a half-life `h` is given): `r = 0.5^(age / h)`, final `= f · (1 − ρ + ρ · r)` with ρ = 0.5,
///   so a memory never loses more than half its score to age.
public enum HybridScoring {
    public static let keywordWeight = 0.5
    public static let recencyWeight = 0.5

    public static func fuse(semantic s: Double, keyword k: Double, mode: SearchMode) -> Double {
        switch mode {
        case .vector: return s
        case .keyword: return k
        case .hybrid: return s + (1 - s) * keywordWeight * k
        }
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
