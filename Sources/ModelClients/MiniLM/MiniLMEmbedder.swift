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
    /// Which matrix multiply is in use, e.g. `int8 weights (AVX2 kernel)`, `OpenBLAS (libopenblas.so.0)` or
    /// `Swift SIMD kernel`.
    public let matrixBackendName: String
    /// Texts per encoder pass.
    public let batchSize: Int
    private let encoder: BertEncoder

    /// Loads the model from `modelDirectory` (`model.safetensors`, `vocab.txt`). Throws
    /// ``ModelClientError/notConfigured(provider:remedy:)`` naming `scripts/fetch-minilm.sh` when files are missing.
    ///
    /// `threads` caps the cores used (default: all). OpenBLAS, when used, is set to one thread process-wide.
    public init(modelDirectory: URL, matrixBackend: MiniLMMatrixBackend = .automatic, batchSize: Int = 32,
                threads: Int? = nil) throws {
        let weightsURL = modelDirectory.appendingPathComponent("model.safetensors")
        let vocabularyURL = modelDirectory.appendingPathComponent("vocab.txt")
        try Self.checkFiles(in: modelDirectory)
        let configuration = BertConfiguration()
        let multiplier = try MatrixMultiplier(
            backend: matrixBackend, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        // OpenBLAS runs single-threaded: ``MatrixMultiplier`` and ``encodeSplittingAcrossCores(_:)`` spread the
        // work over the cores themselves, without OpenBLAS's thread pool waking and yielding on every multiply.
        multiplier.blas?.setThreads?(1)
        do {
            tokenizer = try BertTokenizer(vocabularyFile: vocabularyURL, maxLength: 256)
            let file = try SafeTensorsFile(contentsOf: weightsURL)
            let weights = try MiniLMWeights(file: file, configuration: configuration,
                                            layout: multiplier.weightLayout)
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

    /// The length of every vector (all-MiniLM-L6-v2's hidden size), known before the model is loaded.
    public static let outputDimension = BertConfiguration().hiddenSize

    /// Throws what loading would throw for a missing file or an unusable backend, without reading the model:
    /// lets a handler fail at startup while the actual load runs in the background (``BackgroundLoadedEmbedder``).
    public static func checkConfiguration(modelDirectory: URL, matrixBackend: MiniLMMatrixBackend) throws {
        try checkFiles(in: modelDirectory)
        _ = try MatrixMultiplier(backend: matrixBackend)
    }

    private static func checkFiles(in modelDirectory: URL) throws {
        for name in ["model.safetensors", "vocab.txt"] {
            let file = modelDirectory.appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: file.path) else { continue }
            throw ModelClientError.notConfigured(
                provider: Self.modelName,
                remedy: "\(file.path) is missing; run `\(Self.fetchCommand) \(modelDirectory.path)` "
                    + "(or set \(Self.pathSetting) to the folder that holds model.safetensors and vocab.txt)")
        }
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

    /// Loads the model from ``modelDirectory(environment:)`` with `matrixBackend`, else the backend the
    /// `MEMORY_MINILM_BACKEND` setting names, else ``MiniLMMatrixBackend/defaultSetting``.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       matrixBackend: MiniLMMatrixBackend? = nil) throws -> MiniLMEmbedder {
        try MiniLMEmbedder(modelDirectory: modelDirectory(environment: environment),
                           matrixBackend: matrixBackend ?? backend(environment: environment))
    }

    /// The backend `MEMORY_MINILM_BACKEND` names (absent or empty: ``MiniLMMatrixBackend/defaultSetting``); an
    /// unknown name throws
    /// ``ModelClientError/notConfigured(provider:remedy:)`` listing the accepted ones.
    public static func backend(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> MiniLMMatrixBackend
    {
        guard let name = environment[MiniLMMatrixBackend.setting], !name.isEmpty else { return .defaultSetting }
        guard let backend = MiniLMMatrixBackend(rawValue: name) else {
            let names = MiniLMMatrixBackend.allCases.map(\.rawValue).joined(separator: ", ")
            throw ModelClientError.notConfigured(
                provider: modelName,
                remedy: "\(MiniLMMatrixBackend.setting)=\(name.prefix(40)) is not a backend; use one of \(names)")
        }
        return backend
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
            let vectors = encodeSplittingAcrossCores(batch.map { sequences[$0] })
            for (index, vector) in zip(batch, vectors) { results[index] = vector }
            from += batchSize
        }
        return results
    }

    /// Sequences per core below which a batch is encoded as one pass (the matrix multiply's own threads then
    /// share the work).
    static let sequencesPerCoreToSplit = 4

    /// Encodes a batch as one pass per core, each over every `cores`-th sequence, run side by side.
    ///
    /// A multi-threaded matrix multiply synchronises its threads several times per layer; on two cores that
    /// cost 15 % of a batch of 32 in scheduler time. Independent passes, each on its own core, never wait for
    /// each other (batch 32 on OpenBLAS: 372 → 428 sentences/s, docs/minilm.md). Sequences arrive sorted by
    /// length, so dealing them out in turn gives every pass about the same number of tokens.
    private func encodeSplittingAcrossCores(_ sequences: [[Int32]]) -> [[Float]] {
        let cores = encoder.multiplier.threads
        guard cores > 1, sequences.count >= cores * Self.sequencesPerCoreToSplit else { return encoder.embed(sequences) }
        let parts = (0..<cores).map { p in Array(stride(from: p, to: sequences.count, by: cores)) }
        let collected = EncodedParts(count: cores)
        let encoder = self.encoder
        DispatchQueue.concurrentPerform(iterations: cores) { p in
            collected.set(p, encoder.embed(parts[p].map { sequences[$0] }, singleThreaded: true))
        }
        var results = [[Float]](repeating: [], count: sequences.count)
        for (p, vectors) in collected.all().enumerated() {
            for (index, vector) in zip(parts[p], vectors) { results[index] = vector }
        }
        return results
    }
}

/// The outputs of the passes of ``MiniLMEmbedder/encodeSplittingAcrossCores(_:)``. `@unchecked Sendable`:
/// `parts` is only touched while holding `lock`.
private final class EncodedParts: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [[[Float]]]

    init(count: Int) { parts = Array(repeating: [], count: count) }

    func set(_ index: Int, _ vectors: [[Float]]) {
        lock.lock()
        parts[index] = vectors
        lock.unlock()
    }

    func all() -> [[[Float]]] {
        lock.lock()
        defer { lock.unlock() }
        return parts
    }
}
