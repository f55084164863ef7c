import Foundation

/// A deterministic, dependency-free embedder for tests and benchmarks: feature hashing of lower-cased word
/// tokens and their character trigrams into `dimension` buckets with random signs, L2-normalised.
///
/// Texts sharing words land close together; it has no notion of meaning. Never the default outside tests.
public struct HashingEmbedder: Embedder {
    public let dimension: Int
    public var model: String { "hash-\(dimension)" }

    public init(dimension: Int = 384) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
    }

    public func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        texts.map(vector)
    }

    /// The vector of one text (synchronous; the work is small).
    public func vector(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }
        for word in words {
            add(Substring(word), weight: 1, to: &v)
            let chars = Array("#\(word)#")
            if chars.count > 3 {
                for i in 0...(chars.count - 3) { add(Substring(String(chars[i..<i + 3])), weight: 0.35, to: &v) }
            }
        }
        return l2Normalized(v)
    }

    private func add(_ token: Substring, weight: Float, to v: inout [Float]) {
        let h = Self.fnv1a(token)
        let bucket = Int(h % UInt64(dimension))
        let sign: Float = (h >> 63) == 0 ? 1 : -1
        v[bucket] += sign * weight
    }

    /// FNV-1a 64-bit: stable across processes and platforms (unlike `Hasher`).
    static func fnv1a(_ s: Substring) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
