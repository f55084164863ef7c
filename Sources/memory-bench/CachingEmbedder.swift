import Foundation
import ModelClients

/// Remembers every vector an embedder returned, by purpose and text, so `memory-bench quality` embeds each
/// memory and question once however many ranking variants it measures.
actor CachingEmbedder: Embedder {
    nonisolated let model: String
    nonisolated let dimension: Int
    private let inner: any Embedder
    private var vectors: [CacheKey: [Float]] = [:]

    init(_ inner: any Embedder) {
        self.inner = inner
        self.model = inner.model
        self.dimension = inner.dimension
    }

    func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        let missing = Array(Set(texts.filter { vectors[CacheKey(purpose, $0)] == nil }))
        if !missing.isEmpty {
            let fresh = try await inner.embed(missing, purpose: purpose)
            for (text, vector) in zip(missing, fresh) { vectors[CacheKey(purpose, text)] = vector }
        }
        return texts.map { vectors[CacheKey(purpose, $0)] ?? [] }
    }

    private struct CacheKey: Hashable {
        let query: Bool
        let text: String
        init(_ purpose: EmbeddingPurpose, _ text: String) {
            query = purpose == .query
            self.text = text
        }
    }
}
