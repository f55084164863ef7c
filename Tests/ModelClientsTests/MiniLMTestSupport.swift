import Foundation
@testable import ModelClients

/// Shared fixtures of the MiniLM tests: the package root, the reference file, and the model (loaded once per
/// backend, since it is 90 MB).
enum MiniLMTestSupport {
    /// `Tests/ModelClientsTests/<file>` → the package root.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/ModelClientsTests/Fixtures/minilm-reference.json`: 30 texts with the token ids and embeddings
    /// sentence-transformers produced for them on PyTorch (the file says which weights and settings).
    static let referenceURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/minilm-reference.json")

    /// The model folder from `MEMORY_MINILM_PATH`, else `models/all-MiniLM-L6-v2` under the package root.
    static let modelDirectory = MiniLMEmbedder.modelDirectory(baseDirectory: packageRoot)

    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let token_ids: [Int32]
            let embedding: [Float]
        }
        let cases: [Case]
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let description: String
    }

    static func reference() throws -> Reference {
        guard let data = FileManager.default.contents(atPath: referenceURL.path) else {
            throw FixtureMissing(description: "MiniLM reference file \(referenceURL.path) is missing from the checkout")
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    /// Loading fails with ``ModelClientError/notConfigured(provider:remedy:)`` naming `scripts/fetch-minilm.sh`
    /// when the weights are missing, which fails the test with that message.
    static func embedder(_ backend: MiniLMMatrixBackend) throws -> MiniLMEmbedder {
        switch backend {
        case .automatic: return try automatic.get()
        case .swiftSIMD: return try swiftSIMD.get()
        case .float: return try float.get()
        case .int8, .int8VNNI, .openBLAS: return try MiniLMEmbedder(modelDirectory: modelDirectory, matrixBackend: backend)
        }
    }

    private static let automatic = Result { try MiniLMEmbedder(modelDirectory: modelDirectory, matrixBackend: .automatic) }
    private static let float = Result { try MiniLMEmbedder(modelDirectory: modelDirectory, matrixBackend: .float) }
    private static let swiftSIMD = Result { try MiniLMEmbedder(modelDirectory: modelDirectory, matrixBackend: .swiftSIMD) }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in 0..<min(a.count, b.count) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return dot / max((na * nb).squareRoot(), .leastNormalMagnitude)
    }
}
