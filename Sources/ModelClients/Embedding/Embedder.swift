import Foundation

/// Whether a text is stored (a memory) or asked with (a search query). Most models embed both the same way;
/// some (E5, instruction-tuned models) prefix them differently.
public enum EmbeddingPurpose: Sendable {
    case document
    case query
}

/// Turns texts into unit-length vectors of a fixed dimension.
///
/// `model` and `dimension` name the embedding space; the storage engine records them per partition so that
/// vectors from different models are never compared.
public protocol Embedder: Sendable {
    /// A stable name of the model (and its settings) that made the vectors, e.g. `minilm-l6-v2`.
    var model: String { get }
    /// Length of every vector this embedder returns.
    var dimension: Int { get }
    /// One L2-normalised vector per text, in the order of `texts`. Throws ``ModelClientError``.
    func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]]
}

extension Embedder {
    /// Embeds one text.
    public func embed(_ text: String, purpose: EmbeddingPurpose) async throws -> [Float] {
        let vectors = try await embed([text], purpose: purpose)
        guard let first = vectors.first else {
            throw ModelClientError.malformedResponse(provider: model, detail: "no embedding returned")
        }
        return first
    }
}

/// Scales `v` to unit length (leaves an all-zero vector as it is).
@inlinable
public func l2Normalized(_ v: [Float]) -> [Float] {
    var sum: Float = 0
    for x in v { sum += x * x }
    guard sum > 0 else { return v }
    let inv = 1 / sum.squareRoot()
    return v.map { $0 * inv }
}
