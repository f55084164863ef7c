import Foundation
import Testing
@testable import ModelClients

/// all-MiniLM-L6-v2 against the reference implementation (sentence-transformers on PyTorch): identical token
/// ids, and cosine ≥ 0.999 (float weights) or ≥ 0.995 (int8 weights; int8 activations too where the CPU has VNNI) for 30 texts (Unicode, long, odd ones). Needs the weights
/// (`scripts/fetch-minilm.sh`); fails, naming that command, when they are missing.
@Suite("MiniLM parity with the reference")
struct MiniLMParityTests {
    @Test("token ids equal the reference tokenizer's for every case")
    func tokenIDs() throws {
        let reference = try MiniLMTestSupport.reference()
        #expect(reference.cases.count == 30)
        let tokenizer = try MiniLMTestSupport.embedder(.automatic).tokenizer
        for item in reference.cases {
            let ids = tokenizer.encode(item.text)
            #expect(ids == item.token_ids, "token ids differ for \(item.text.debugDescription)")
        }
    }

    @Test("embeddings are close to the reference for every case, batched and one by one",
          arguments: [(MiniLMMatrixBackend.float, Float(0.999)), (.int8, Float(0.995))]
              + (Int8VNNIGEMM.isAvailable ? [(.int8VNNI, Float(0.995))] : []))
    func embeddings(case parity: (backend: MiniLMMatrixBackend, minimumCosine: Float)) async throws {
        let (backend, minimumCosine) = parity
        let reference = try MiniLMTestSupport.reference()
        let embedder = try MiniLMTestSupport.embedder(backend)
        let batched = try await embedder.embed(reference.cases.map(\.text), purpose: .document)
        #expect(batched.count == reference.cases.count)
        var lowest: Float = 1
        for (item, vector) in zip(reference.cases, batched) {
            lowest = min(lowest, expectClose(vector, item, embedder, "batched", minimumCosine: minimumCosine))
        }
        for item in reference.cases.prefix(6) {
            expectClose(try await embedder.embed(item.text, purpose: .query), item, embedder, "alone",
                        minimumCosine: minimumCosine)
        }
        print("MiniLM \(embedder.matrixBackendName): lowest cosine with the reference \(lowest)")
    }

    /// The portable kernel (what runs where OpenBLAS is absent) on a mixed subset; when OpenBLAS is absent the
    /// test above already ran every case on it.
    @Test("the Swift SIMD kernel also matches the reference")
    func swiftKernelEmbeddings() async throws {
        let reference = try MiniLMTestSupport.reference()
        let embedder = try MiniLMTestSupport.embedder(.swiftSIMD)
        let subset = reference.cases.enumerated().filter { $0.offset % 3 == 0 && $0.element.token_ids.count < 64 }
            .map(\.element)
        #expect(subset.count >= 8)
        let vectors = try await embedder.embed(subset.map(\.text), purpose: .document)
        for (item, vector) in zip(subset, vectors) { expectClose(vector, item, embedder, "batched", minimumCosine: 0.999) }
    }

    /// Checks one vector and returns its cosine with the reference.
    @discardableResult
    private func expectClose(_ vector: [Float], _ item: MiniLMTestSupport.Reference.Case, _ embedder: MiniLMEmbedder,
                             _ mode: String, minimumCosine: Float) -> Float {
        #expect(vector.count == 384)
        let cosine = MiniLMTestSupport.cosine(vector, item.embedding)
        #expect(cosine >= minimumCosine, "cosine \(cosine) for \(item.text.debugDescription) (\(embedder.matrixBackendName), \(mode))")
        var norm: Float = 0
        for x in vector { norm += x * x }
        #expect(abs(norm - 1) < 1e-4, "vector of \(item.text.debugDescription) is not unit length")
        return cosine
    }

    @Test("a preference is found by a question about it, not by an unrelated sentence")
    func semanticSanity() async throws {
        let embedder = try MiniLMTestSupport.embedder(.automatic)
        let vectors = try await embedder.embed([
            "I prefer dark mode",
            "what theme does the user like?",
            "The quarterly tax filing is due in April.",
        ], purpose: .document)
        let related = MiniLMTestSupport.cosine(vectors[0], vectors[1])
        let unrelated = MiniLMTestSupport.cosine(vectors[0], vectors[2])
        #expect(related > unrelated + 0.1, "related \(related), unrelated \(unrelated)")
    }
}
