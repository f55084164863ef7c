import Foundation

/// An embedder whose model loads in the background: constructing it returns at once, and the first `embed`
/// waits for the load to finish. A handler can then bind, accept its first request and read the partition from
/// storage while the model is still loading, instead of doing those one after the other (cold start,
/// docs/minilm.md).
///
/// `model` and `dimension` are given up front (they must equal the loaded embedder's). If the load fails, every
/// `embed` throws that error; callers should check what is cheap to check (e.g. that the files exist) before
/// constructing this, so that a misconfiguration still stops the process at startup.
public final class BackgroundLoadedEmbedder: Embedder {
    public let model: String
    public let dimension: Int
    private let loading: Task<any Embedder, any Error>

    /// Starts `load` on a background task immediately.
    public init(model: String, dimension: Int, load: @escaping @Sendable () throws -> any Embedder) {
        self.model = model
        self.dimension = dimension
        loading = Task.detached(priority: .userInitiated) { try load() }
    }

    /// The loaded embedder (waits for the load).
    public func loaded() async throws -> any Embedder {
        try await loading.value
    }

    public func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        let embedder = try await loading.value
        let vectors = try await embedder.embed(texts, purpose: purpose)
        if let first = vectors.first, first.count != dimension {
            throw ModelClientError.malformedResponse(
                provider: model, detail: "loaded model returns \(first.count) dimensions, \(dimension) announced")
        }
        return vectors
    }
}
