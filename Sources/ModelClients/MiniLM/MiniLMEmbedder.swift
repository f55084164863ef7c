import Foundation

/// sentence-transformers all-MiniLM-L6-v2 run in process: 384-dimensional, L2-normalised sentence embeddings
/// with no network and no API bill. Loads `model.safetensors` and `vocab.txt` from a folder (fetched by
/// `scripts/fetch-minilm.sh`); see `docs/minilm.md`.
///
/// Texts longer than 256 word pieces are truncated (as the reference does). Queries and documents are embedded
/// the same way. Embedding is CPU-bound and synchronous inside `embed`; batches are processed in groups of
/// ``batchSize`` texts of similar length.
public final class MiniLMEmbedder: Embedder {
    public static let modelName = "all-MiniLM-L6-v2"
    /// The setting (environment variable) naming the folder with the model files.
    public static let pathSetting = "MEMORY_MINILM_PATH"
    /// Used when the setting is absent, relative to the working directory.
    public static let defaultPath = "./models/all-MiniLM-L6-v2"
    /// The command that installs the model files.
    public static let fetchCommand = "scripts/fetch-minilm.sh"

    public let model = MiniLMEmbedder.modelName
    public let dimension: Int
    /// The tokenizer, public for tests and diagnostics.
    public let tokenizer: BertTokenizer
    /// Which matrix multiply is in use, e.g. `OpenBLAS (libopenblas.so.0)` or `Swift SIMD kernel`.
    public let matrixBackendName: String
    /// Texts per encoder pass.
    public let batchSize: Int
    private let encoder: BertEncoder

    /// Loads the model from `modelDirectory` (`model.safetensors`, `vocab.txt`). Throws
    /// ``ModelClientError/notConfigured(provider:remedy:)`` naming `scripts/fetch-minilm.sh` when files are missing.
    ///
    /// `threads` caps the cores used (default: all); with OpenBLAS it sets OpenBLAS's process-wide pool size.
    public init(modelDirectory: URL, matrixBackend: MiniLMMatrixBackend = .automatic, batchSize: Int = 32,
                threads: Int? = nil) throws {
        let weightsURL = modelDirectory.appendingPathComponent("model.safetensors")
        let vocabularyURL = modelDirectory.appendingPathComponent("vocab.txt")
        for file in [weightsURL, vocabularyURL] where !FileManager.default.fileExists(atPath: file.path) {
            throw ModelClientError.notConfigured(
                provider: Self.modelName,
                remedy: "\(file.path) is missing; run `\(Self.fetchCommand) \(modelDirectory.path)` "
                    + "(or set \(Self.pathSetting) to the folder that holds model.safetensors and vocab.txt)")
        }
        let configuration = BertConfiguration()
        let multiplier = try MatrixMultiplier(
            backend: matrixBackend, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        if let threads, let setThreads = multiplier.blas?.setThreads { setThreads(Int32(max(1, threads))) }
        do {
            tokenizer = try BertTokenizer(vocabularyFile: vocabularyURL, maxLength: 256)
            let file = try SafeTensorsFile(contentsOf: weightsURL)
            let weights = try MiniLMWeights(file: file, configuration: configuration,
                                            packForSwiftKernel: multiplier.usesSwiftKernel)
            encoder = BertEncoder(weights: weights, multiplier: multiplier)
        } catch let error as ModelClientError {
            throw error
        } catch {
            throw ModelClientError.notConfigured(
                provider: Self.modelName,
                remedy: "the model files in \(modelDirectory.path) are unusable (\(error)); "
                    + "delete the folder and run `\(Self.fetchCommand) \(modelDirectory.path)`")
        }
        guard tokenizer.largestID < configuration.vocabularySize else {
            throw ModelClientError.notConfigured(
                provider: Self.modelName,
                remedy: "\(vocabularyURL.path) has ids up to \(tokenizer.largestID) but the model has "
                    + "\(configuration.vocabularySize) embeddings; delete the folder and run `\(Self.fetchCommand)`")
        }
        dimension = configuration.hiddenSize
        matrixBackendName = multiplier.name
        self.batchSize = max(1, batchSize)
    }

    /// The model folder from the `MEMORY_MINILM_PATH` setting, else `./models/all-MiniLM-L6-v2`; relative
    /// paths are resolved against `baseDirectory` (default: the working directory).
    public static func modelDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      baseDirectory: URL? = nil) -> URL {
        let configured = environment[pathSetting].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
        let base = baseDirectory
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        return URL(fileURLWithPath: configured, isDirectory: true, relativeTo: base).standardizedFileURL
    }

    /// Loads the model from ``modelDirectory(environment:)``.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       matrixBackend: MiniLMMatrixBackend = .automatic) throws -> MiniLMEmbedder {
        try MiniLMEmbedder(modelDirectory: modelDirectory(environment: environment), matrixBackend: matrixBackend)
    }

    public func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        embedSynchronously(texts)
    }

    /// The embeddings of `texts`, in order, computed on the calling thread (plus the matrix multiply's threads).
    public func embedSynchronously(_ texts: [String]) -> [[Float]] {
        let sequences = texts.map { tokenizer.encode($0) }
        // Group texts of similar length so attention and cache use stay even within a batch.
        let order = sequences.indices.sorted { sequences[$0].count < sequences[$1].count }
        var results = [[Float]](repeating: [], count: texts.count)
        var from = 0
        while from < order.count {
            let batch = Array(order[from..<min(order.count, from + batchSize)])
            let vectors = encoder.embed(batch.map { sequences[$0] })
            for (index, vector) in zip(batch, vectors) { results[index] = vector }
            from += batchSize
        }
        return results
    }
}
