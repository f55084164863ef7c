import ArgumentParser
import Foundation
import JSONModel
import Logging
import MemoryCore
import MemoryStorage
import ModelClients

/// `memory-bench fanout`: agent-wide search over many partitions, in process, through `MemoryService` on a
/// folder store (embedding excluded: the query vector is precomputed). Every memory carries its user and the
/// agent `support`, so `{"agent_id": "support"}` reads every partition the scope directory names. Prints the
/// first (cold: new process state, partitions loaded from their snapshots) call and the warm p50/p99, plus a
/// single-user search on the same store for comparison.
struct FanOutBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Agent-wide search latency over many partitions (scope directory fan-out).")

    @Option(help: "Layouts as partitions x memories, comma-separated.")
    var layouts: String = "100x1000,1000x100"

    @Option(help: "Embedding dimension.")
    var dim: Int = 384

    @Option(help: "Warm queries per layout.")
    var queries: Int = 50

    @Option(name: .customLong("top-k"), help: "Results per query.")
    var topK: Int = 10

    @Option(help: "Folder for the generated stores (a fresh sub-folder per layout, removed afterwards).")
    var folder: String = FileManager.default.temporaryDirectory.path

    func run() async throws {
        print("machine: \(SearchBench.machine())")
        print("fanout bench: \(queries) warm queries per row, top_k=\(topK), \(dim)-d, hybrid, filter {agent_id: support}")
        for layout in layouts.split(separator: ",") {
            let parts = layout.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 else { throw ValidationError("layout '\(layout)' is not PARTITIONSxMEMORIES") }
            try await bench(partitions: parts[0], perPartition: parts[1])
        }
    }

    private func bench(partitions: Int, perPartition: Int) async throws {
        let root = URL(fileURLWithPath: folder).appendingPathComponent("fanout-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let blobs = FileBlobStore(root: root, durable: false)
        var rng = SystemRandomNumberGenerator()
        let space = EmbeddingSpace(model: BenchEmbedder.modelName, dimension: dim)
        let vocabulary = (0..<5000).map { "w\($0)" }
        let loadStart = Date()
        let writer = PartitionStore(blobs: blobs, options: MemoryService.storeOptions(), logger: logger)
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
        for p in 0..<partitions {
            let owner = PartitionOwner(kind: .user, id: "user\(p)")
            let memories = (0..<perPartition).map { i in
                StoredMemory(
                    id: owner.newMemoryId(),
                    text: (0..<8).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &rng)] }.joined(separator: " "),
                    hash: "", scopes: MemoryScopes(userId: owner.id, agentId: "support"), metadata: .null, categories: [],
                    createdAt: epoch.addingTimeInterval(Double(i)), updatedAt: epoch.addingTimeInterval(Double(i)),
                    embedding: l2Normalized((0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }))
            }
            let key = PartitionKey(tenant: "bench", owner: owner)
            _ = try await writer.write(key, space: space) { _ in .append(LogBatch(operations: memories.map { .add($0) }), ()) }
            _ = try await writer.compact(key)
        }
        print("\(partitions) partitions x \(perPartition) memories written and compacted in "
              + String(format: "%.1f", Date().timeIntervalSince(loadStart)) + " s")

        // A fresh store and service: the first call loads every partition's snapshot.
        let store = PartitionStore(blobs: blobs, options: MemoryService.storeOptions(), logger: logger)
        let query = l2Normalized((0..<dim).map { _ in Float.random(in: -1...1, using: &rng) })
        var options = MemoryServiceOptions()
        options.searchIndexCacheCapacity = max(options.searchIndexCacheCapacity, partitions)
        let service = MemoryService(store: store, embedder: BenchEmbedder(vector: query), options: options, logger: logger)
        let context = RequestContext(tenant: "bench")
        func request(_ filters: String, _ text: String) throws -> SearchRequest {
            try SearchRequest(json: try JSONValue.decode(Data(
                #"{"query": "\#(text)", "filters": \#(filters), "top_k": \#(topK), "threshold": 0}"#.utf8)))
        }
        let texts = (0..<max(1, queries)).map { _ in (0..<3).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &rng)] }.joined(separator: " ") }
        let agentWide = try texts.map { try request(#"{"agent_id": "support"}"#, $0) }
        let singleUser = try texts.map { try request(#"{"user_id": "user0"}"#, $0) }

        func timed(_ r: SearchRequest) async throws -> (ms: Double, hits: Int) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let answer = try await service.search(r, context)
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6, answer.hits.count)
        }
        let cold = try await timed(agentWide[0])
        guard cold.hits == topK else { throw ValidationError("agent-wide search returned \(cold.hits) hits, expected \(topK)") }
        var warm: [Double] = []
        let cpu0 = Self.processCPUSeconds()
        for r in agentWide { warm.append(try await timed(r).ms) }
        let cpuPerQuery = (Self.processCPUSeconds() - cpu0) * 1000 / Double(agentWide.count)
        var single: [Double] = []
        for r in singleUser { _ = try await timed(r) }
        for r in singleUser { single.append(try await timed(r).ms) }
        warm.sort()
        single.sort()
        func pct(_ t: [Double], _ p: Double) -> String { String(format: "%.3f", t[min(t.count - 1, Int(Double(t.count) * p))]) }
        print("  agent-wide search over \(partitions) partitions: first (cold) \(String(format: "%.1f", cold.ms)) ms; "
              + "warm p50 \(pct(warm, 0.5)) ms, p99 \(pct(warm, 0.99)) ms; CPU (user+sys, all threads) "
              + String(format: "%.1f", cpuPerQuery) + " ms per warm query")
        print("  single-user search (\(perPartition) memories, same service): warm p50 \(pct(single, 0.5)) ms, p99 \(pct(single, 0.99)) ms")
        // Where a warm agent-wide search spends its time: the directory listing, and the partition reads
        // (manifest + log tail per partition), each measured alone and sequentially.
        let agent = PartitionOwner(kind: .agent, id: "support")
        var listings: [Double] = []
        var reads: [Double] = []
        for _ in 0..<5 {
            var t0 = DispatchTime.now().uptimeNanoseconds
            let keys = try await store.partitions(tenant: "bench", carrying: agent)
            listings.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            t0 = DispatchTime.now().uptimeNanoseconds
            for key in keys { _ = try await store.read(key) }
            reads.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        listings.sort()
        reads.sort()
        print("  breakdown (median of 5): directory listing \(pct(listings, 0.5)) ms; \(partitions) warm partition reads, one after another, \(pct(reads, 0.5)) ms")
    }
}

extension FanOutBench {
    /// User + system CPU time this process has used, in seconds: what a query costs whatever else the machine runs.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// Returns one precomputed vector for every text, so the benchmark measures retrieval, not embedding.
private struct BenchEmbedder: Embedder {
    static let modelName = "bench-fixed"
    let vector: [Float]
    var model: String { Self.modelName }
    var dimension: Int { vector.count }
    func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        texts.map { _ in vector }
    }
}
