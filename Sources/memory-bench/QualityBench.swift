import ArgumentParser
import Foundation
import Logging
import MemoryCore
import MemoryStorage
import ModelClients

/// `memory-bench quality`: retrieval quality on LoCoMo conversations, by the protocol of
/// `../shared/data/README.md`. Every turn is added to the in-process service (folder store, MiniLM embedder)
/// one request per turn with `infer: false`; every question of categories 1–4 is searched in its conversation
/// with `top_k: 10`, `threshold: 0`. Prints recall@5 and recall@10 (share of a question's evidence turns among
/// the first 5 / 10 results, averaged) overall and per category, and the search p50, for each ranking variant.
/// A benchmark, not a test: the data stays outside the repository.
struct QualityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Recall@5/@10 on LoCoMo conversations (overall and per category) and search p50, per ranking variant.")

    @Option(help: """
        The LoCoMo file (a list of samples); default ../shared/data/locomo-dev.json, looked for in the parent \
        folders too (a git worktree sits deeper than the clone).
        """)
    var data: String?

    @Option(help: "Model folder (default: $MEMORY_MINILM_PATH or ./models/all-MiniLM-L6-v2).")
    var modelPath: String?

    @Option(help: """
        Ranking variants, comma-separated: `standard` (the default ranking), `baseline` (the ranking before \
        this benchmark), each optionally followed by `:key=value` changes — scale=ideal|best, b=<BM25 length normalisation>, beta=<β>, \
        context=<γ>, window=<seconds>, reach=<turns>, subject=<σ>, supersede=<similarity>|off, relevance=<share>. Example: standard:context=0,baseline:scale=best
        """)
    var variants: String = "baseline,standard"

    @Option(help: "Print this many questions whose evidence the first variant missed (question, evidence, top 3).")
    var misses: Int = 0

    func run() async throws {
        let rankings = try variants.split(separator: ",").map { try Self.ranking(String($0)) }
        let data = try self.data ?? Self.defaultData()
        let dataset = try QualityDataset(contentsOf: URL(fileURLWithPath: data))
        let turns = dataset.conversations.reduce(0) { $0 + $1.turns.count }
        let questions = dataset.conversations.flatMap(\.questions)
        print(EmbedBenchMachine.describe())
        print(EmbedBenchMachine.load())
        print("data: \(data): \(dataset.conversations.count) conversations, \(turns) turns, "
              + "\(questions.count) questions (categories 1-4 with evidence)")

        let directory = modelPath.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? MiniLMEmbedder.modelDirectory()
        // The backend the handlers would use (`MEMORY_MINILM_BACKEND`, default automatic), so float and int8 compare.
        let miniLM = try MiniLMEmbedder(modelDirectory: directory, matrixBackend: try MiniLMEmbedder.backend())
        print("MiniLM matrix backend: \(miniLM.matrixBackendName)")
        let embedder = CachingEmbedder(miniLM)
        let start = DispatchTime.now()
        for conversation in dataset.conversations {     // batches of 32 fill the cache far faster than one by one
            _ = try await embedder.embed(conversation.turns.map(\.text), purpose: .document)
            _ = try await embedder.embed(conversation.questions.map(\.text), purpose: .query)
        }
        print(String(format: "embedded every turn and question with MiniLM in %.1f s (cached for all variants)",
                     seconds(since: start)))

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memory-bench-quality-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var logger = Logger(label: "memory-bench")
        logger.logLevel = .warning
        let store = PartitionStore(blobs: FileBlobStore(root: root, durable: false), logger: logger)
        let writer = MemoryService(store: store, embedder: embedder, logger: logger)
        let addStart = DispatchTime.now()
        for conversation in dataset.conversations {
            for turn in conversation.turns {
                _ = try await writer.add(try AddRequest(json: .object([
                    "messages": .array([.object(["role": .string("user"), "content": .string(turn.text)])]),
                    "user_id": .string(conversation.sampleId), "infer": .bool(false),
                    "metadata": .object(["dia_id": .string(turn.diaId), "session": .number(Double(turn.session))]),
                    "timestamp": .number(turn.timestamp),
                ])), RequestContext(tenant: "bench"))
            }
        }
        print(String(format: "added %d turns, one request each, in %.1f s", turns, seconds(since: addStart)))

        let categories = QualityDataset.categoryNames.keys.sorted()
        print("\nrecall@10 (recall@5) by category; search p50 through the service, query embedding cached (excluded)")
        print(Self.row(["variant", "overall"] + categories.map { "\($0) \(QualityDataset.categoryNames[$0]!)" } + ["p50 ms"]))
        for (name, ranking) in zip(variants.split(separator: ","), rankings) {
            var options = MemoryServiceOptions()
            options.ranking = ranking
            let service = MemoryService(store: store, embedder: embedder, options: options, logger: logger)
            var score = RecallTally()
            var latencies: [Double] = []
            var printedMisses = 0
            for conversation in dataset.conversations {
                for question in conversation.questions {
                    let request = try SearchRequest(json: .object([
                        "query": .string(question.text),
                        "filters": .object(["user_id": .string(conversation.sampleId)]),
                        "top_k": .number(10), "threshold": .number(0),
                    ]))
                    let t0 = DispatchTime.now()
                    let answer = try await service.search(request, RequestContext(tenant: "bench"))
                    latencies.append(seconds(since: t0) * 1000)
                    let found = answer.hits.map { $0.memory.metadata["dia_id"]?.stringValue }
                    score.add(category: question.category, evidence: question.evidence, ranked: found)
                    if printedMisses < misses, name == variants.split(separator: ",").first,
                       !question.evidence.isSubset(of: Set(found.compactMap { $0 })) {
                        printedMisses += 1
                        let text = Dictionary(conversation.turns.map { ($0.diaId, $0.text) }, uniquingKeysWith: { a, _ in a })
                        print("MISS [\(question.category)] \(question.text)")
                        for e in question.evidence.sorted() { print("   evidence \(e)\(found.contains(e) ? " (found)" : ""): \(text[e] ?? "?")") }
                        for f in found.prefix(3) { print("   got \(f ?? "?"): \(text[f ?? ""] ?? "?")") }
                    }
                }
            }
            latencies.sort()
            print(Self.row([String(name), score.cell(nil)] + categories.map { score.cell($0) }
                           + [String(format: "%.3f", latencies[latencies.count / 2])]))
        }
        try await currentStateProbe(store: store, embedder: embedder, rankings: rankings, logger: logger)
        print("\nquestions per category: " + categories.map { c in "\(c): \(questions.filter { $0.category == c }.count)" }.joined(separator: ", "))
    }

    /// Current state over stale state without a chat model: a preference, then a later message restating it,
    /// both added with `infer: true`; prints which one each variant ranks first for a question about it.
    private func currentStateProbe(store: PartitionStore, embedder: any Embedder, rankings: [RankingOptions],
                                   logger: Logger) async throws {
        let older = "I prefer dark mode", newer = "Actually I switched, I now prefer light mode"
        let query = "what theme does the user like?"
        let vectors = try await embedder.embed([older, newer], purpose: .document)
        let similarity = zip(vectors[0], vectors[1]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let writer = MemoryService(store: store, embedder: embedder, logger: logger)
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        for (i, text) in [older, newer].enumerated() {
            _ = try await writer.add(try AddRequest(json: .object([
                "messages": .array([.object(["role": .string("user"), "content": .string(text)])]),
                "user_id": .string("probe-current-state"), "infer": .bool(true),
            ])), RequestContext(tenant: "bench", now: t0.addingTimeInterval(Double(i) * 86_400)))
        }
        print("\ncurrent state: \"\(older)\", a day later \"\(newer)\" (cosine "
              + String(format: "%.3f", similarity) + "); ranking for \"\(query)\":")
        for (name, ranking) in zip(variants.split(separator: ","), rankings) {
            var options = MemoryServiceOptions()
            options.ranking = ranking
            let service = MemoryService(store: store, embedder: embedder, options: options, logger: logger)
            let answer = try await service.search(try SearchRequest(json: .object([
                "query": .string(query), "filters": .object(["user_id": .string("probe-current-state")]),
            ])), RequestContext(tenant: "bench"))
            let ranked = answer.hits.map { "\($0.memory.text) (" + String(format: "%.3f", $0.score) + ")" }
            print("  \(name): " + ranked.joined(separator: " > "))
        }
    }

    /// `../shared/data/locomo-dev.json`, or the first `shared/data/locomo-dev.json` in a folder further up.
    static func defaultData() throws -> String {
        var prefix = "../"
        for _ in 0..<3 {
            let candidate = prefix + "shared/data/locomo-dev.json"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            prefix += "../"
        }
        throw ValidationError("no ../shared/data/locomo-dev.json above \(FileManager.default.currentDirectoryPath); "
                              + "pass --data PATH (the LoCoMo dev split, kept outside the repository)")
    }

    /// A variant name, `standard` or `baseline`, with optional `:key=value` changes.
    static func ranking(_ spec: String) throws -> RankingOptions {
        let parts = spec.split(separator: ":").map(String.init)
        var ranking: RankingOptions
        switch parts.first {
        case "standard": ranking = .standard
        case "baseline": ranking = .baseline
        default: throw ValidationError("unknown ranking variant \(spec): start with standard or baseline")
        }
        for change in parts.dropFirst() {
            let kv = change.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("\(change) in \(spec): expected key=value") }
            switch (kv[0], kv[1]) {
            case ("scale", "ideal"): ranking.keywordScale = .ideal
            case ("scale", "best"): ranking.keywordScale = .bestMatch
            case ("supersede", "off"): ranking.supersedeSimilarity = nil
            case ("beta", let v): ranking.keywordWeight = try number(v, spec)
            case ("b", let v): ranking.lengthNormalization = try number(v, spec)
            case ("context", let v): ranking.contextWeight = try number(v, spec)
            case ("window", let v): ranking.contextWindow = try number(v, spec)
            case ("time", let v): ranking.timeWeight = try number(v, spec)
            case ("reach", let v): ranking.contextReach = Int(try number(v, spec))
            case ("subject", let v): ranking.subjectWeight = try number(v, spec)
            case ("supersede", let v): ranking.supersedeSimilarity = try number(v, spec)
            case ("relevance", let v): ranking.supersedeRelevance = try number(v, spec)
            default: throw ValidationError("unknown change \(change) in \(spec)")
            }
        }
        return ranking
    }

    private static func number(_ text: String, _ spec: String) throws -> Double {
        guard let value = Double(text) else { throw ValidationError("\(text) in \(spec) is not a number") }
        return value
    }

    static func row(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            let width = i == 0 ? 34 : 17
            return cell.count >= width ? cell + " " : cell + String(repeating: " ", count: width - cell.count)
        }.joined()
    }
}

/// Recall@5 and recall@10 sums per category.
private struct RecallTally {
    private var sums: [Int: (at5: Double, at10: Double, count: Int)] = [:]

    /// Adds one question: the share of its evidence among the first 5 and 10 results.
    mutating func add(category: Int, evidence: Set<String>, ranked: [String?]) {
        let at5 = Double(evidence.intersection(ranked.prefix(5).compactMap { $0 }).count) / Double(evidence.count)
        let at10 = Double(evidence.intersection(ranked.prefix(10).compactMap { $0 }).count) / Double(evidence.count)
        let old = sums[category] ?? (0, 0, 0)
        sums[category] = (old.at5 + at5, old.at10 + at10, old.count + 1)
    }

    /// `recall@10 (recall@5)` of one category, or of every question for `nil`.
    func cell(_ category: Int?) -> String {
        let parts = category.map { sums[$0].map { [$0] } ?? [] } ?? Array(sums.values)
        let count = parts.reduce(0) { $0 + $1.count }
        guard count > 0 else { return "-" }
        let at5 = parts.reduce(0) { $0 + $1.at5 } / Double(count)
        let at10 = parts.reduce(0) { $0 + $1.at10 } / Double(count)
        return String(format: "%.3f (%.3f)", at10, at5)
    }
}

private func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
