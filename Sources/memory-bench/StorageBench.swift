import ArgumentParser
import Foundation
import JSONModel
import Logging
import MemoryCore
import MemoryStorage

/// `memory-bench storage`: durable append throughput (1 and 4 writer processes), partition open time,
/// compaction time and snapshot size. Needs `memory-tool` built next to `memory-bench`
/// (`swift build -c release --product memory-tool`).
struct StorageBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Storage engine: appends/s, open time, compaction time, snapshot size.")

    @Option(help: "Folder for the benchmark's blobs (deleted afterwards).")
    var folder: String = NSTemporaryDirectory() + "agentmemory-storage-bench"

    @Option(help: "Requests per writer process in the append benchmark.")
    var requests: Int = 200

    @Option(help: "Memories per request (one append each) in the append benchmark.")
    var batch: Int = 10

    @Option(help: "Embedding dimension.")
    var dim: Int = 384

    @Option(help: "Partition sizes for the open benchmark.")
    var sizes: [Int] = [10_000, 100_000]

    @Option(help: "Timed opens per size.")
    var opens: Int = 15

    @Flag(help: "Compact without the search layer's derived sections (BM25 postings), to compare size and open time.")
    var withoutDerivedSections = false

    func run() async throws {
        printMachine()
        let root = URL(fileURLWithPath: folder)
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }

        try await appendBenchmark(root: root)

        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let blobs = FileBlobStore(root: root.appendingPathComponent("open"), durable: false)
        for size in sizes {
            try await openAndCompactBenchmark(blobs: blobs, size: size, logger: logger)
        }
    }

    // MARK: Appends

    func appendBenchmark(root: URL) async throws {
        guard let tool = siblingBinary("memory-tool") else {
            print("appends: skipped, memory-tool not found next to memory-bench (swift build -c release --product memory-tool)")
            return
        }
        for writers in [1, 4] {
            let storage = "file:" + root.appendingPathComponent("appends-\(writers)").path
            let start = Date()
            let procs = try (0..<writers).map { w -> Process in
                let p = Process()
                p.executableURL = tool
                p.arguments = ["append", "--storage", storage, "--tenant", "bench", "--user", "u", "--count", "\(requests)",
                               "--batch", "\(batch)", "--writer-id", "w\(w)", "--dim", "\(dim)", "--text-bytes", "90"]
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                return p
            }
            for p in procs { p.waitUntilExit() }
            let seconds = Date().timeIntervalSince(start)
            let failed = procs.filter { $0.terminationStatus != 0 }.count
            let appends = Double(writers * requests)
            print(String(format: "appends (durable, fsync): %d writer process(es) x %d requests x %d memories: %.0f appends/s, %.0f memories/s (%.2f s wall, incl. process start)%@",
                         writers, requests, batch, appends / seconds, appends * Double(batch) / seconds, seconds,
                         failed > 0 ? " — \(failed) writer(s) FAILED" : ""))
        }
    }

    func siblingBinary(_ name: String) -> URL? {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidate = me.deletingLastPathComponent().appendingPathComponent(name)
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    // MARK: Open and compaction

    func openAndCompactBenchmark(blobs: FileBlobStore, size: Int, logger: Logger) async throws {
        let key = PartitionKey(tenant: "bench", owner: PartitionOwner(kind: .user, id: "open-\(size)"))
        let space = EmbeddingSpace(model: "bench", dimension: dim)
        var options = withoutDerivedSections ? PartitionStoreOptions() : MemoryService.storeOptions()
        options.garbageGracePeriod = 0
        let writer = PartitionStore(blobs: blobs, options: options, logger: logger)
        var textBytes = 0, metadataBytes = 0
        let perAppend = 1000
        var written = 0
        var rng = SystemRandomNumberGenerator()
        let topics = ["tea", "hiking", "jazz", "Oslo", "vegetarian food", "early meetings", "Python", "cats", "sci-fi novels", "cycling"]
        while written < size {
            let n = min(perAppend, size - written)
            var ops: [LogOperation] = []
            ops.reserveCapacity(n)
            for i in written..<written + n {
                let text = "User mentioned they enjoy \(topics[i % topics.count]) and want reminders about it on day \(i)."
                let metadata = JSONValue.object(["source": .string("chat"), "turn": .number(Double(i % 50)), "topic": .string(topics[i % 10])])
                textBytes += text.utf8.count
                metadataBytes += jsonBytes(metadata)
                var v = (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                v = v.map { $0 / norm }
                let now = Date()
                ops.append(.add(StoredMemory(id: key.owner.newMemoryId(), text: text, hash: md5Like(i),
                                             scopes: MemoryScopes(userId: key.owner.id, agentId: "assistant"),
                                             metadata: metadata, categories: ["preferences"], createdAt: now,
                                             updatedAt: now, embedding: v)))
            }
            let batch = LogBatch(operations: ops)
            _ = try await writer.write(key, space: space) { _ in .append(batch, ()) }
            written += n
        }

        let t0 = Date()
        let report = try await writer.compact(key)
        let compactSeconds = Date().timeIntervalSince(t0)
        print(String(format: "compaction: %d records (%.1f MB of log) -> snapshot of %.1f MB in %.0f ms",
                     size, Double(report.foldedLogBytes) / 1e6, Double(report.snapshotBytes) / 1e6, compactSeconds * 1000))

        let baseline = Double(textBytes + metadataBytes + size * dim)
        print(String(format: "snapshot: %.1f bytes/memory; text %.1f + metadata JSON %.1f + int8 vector %d = %.1f; ratio %.3f (target <= 1.3)",
                     Double(report.snapshotBytes) / Double(size), Double(textBytes) / Double(size),
                     Double(metadataBytes) / Double(size), dim, baseline / Double(size),
                     Double(report.snapshotBytes) / baseline))

        // Warm the OS cache once, then time opens by fresh stores (no process cache).
        _ = try await PartitionStore(blobs: blobs, logger: logger).read(key)
        var times: [Double] = []
        for _ in 0..<opens {
            let store = PartitionStore(blobs: blobs, logger: logger)
            let t = Date()
            let state = try await store.read(key)
            times.append(Date().timeIntervalSince(t) * 1000)
            precondition(state.memories.count == size, "benchmark partition lost memories")
        }
        times.sort()
        print(String(format: "open: %d memories (%d-d), snapshot + empty log tail, warm OS cache: p50 %.1f ms, p90 %.1f ms, min %.1f ms (n=%d)",
                     size, dim, percentile(times, 0.5), percentile(times, 0.9), times[0], times.count))
        if !withoutDerivedSections { try await indexBuildBenchmark(blobs: blobs, key: key, size: size, logger: logger) }
        try await residentBenchmark(blobs: blobs, key: key, size: size, snapshotBytes: report.snapshotBytes, logger: logger)
    }

    /// Resident memory the partition adds once opened and searched: RSS before, then a fresh open, its search
    /// index and one vector search, then RSS again while both are alive. `malloc_trim` before each reading
    /// returns freed heap pages to the OS, so the difference is what the state and index keep, not what earlier
    /// steps left in malloc's free lists.
    func residentBenchmark(blobs: FileBlobStore, key: PartitionKey, size: Int, snapshotBytes: Int,
                           logger: Logger) async throws {
        let before = ResidentMemory.trimmedBytes()
        let state = try await PartitionStore(blobs: blobs, logger: logger).read(key)
        let opened = ResidentMemory.trimmedBytes()
        let index = PartitionSearchIndex(state: state)
        var rng = SystemRandomNumberGenerator()
        let query = (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }
        let hits = index.search(SearchQuery(text: "", vector: query, topK: 10, mode: .vector))
        let untrimmed = ResidentMemory.bytes()
        let after = ResidentMemory.trimmedBytes()
        withExtendedLifetime((state, index)) {}
        precondition(hits.count == 10, "search found too few memories")
        let added = Double(after - before)
        print(String(format: "resident memory added by open + index + search of %d memories: %.1f MB (state %.1f MB + index %.1f MB; %.1f MB before malloc_trim); snapshot %.1f MB; ratio %.2f (target <= 1.5)",
                     size, added / 1e6, Double(opened - before) / 1e6, Double(after - opened) / 1e6,
                     Double(untrimmed - before) / 1e6, Double(snapshotBytes) / 1e6, added / Double(snapshotBytes)))
    }

    /// Search-index build after a fresh open: from the snapshot's BM25 postings vs from scratch (the same
    /// memories without the snapshot's sections).
    func indexBuildBenchmark(blobs: FileBlobStore, key: PartitionKey, size: Int, logger: Logger) async throws {
        var seeded: [Double] = [], scratch: [Double] = [], decode: [Double] = []
        for _ in 0..<opens {
            let state = try await PartitionStore(blobs: blobs, logger: logger).read(key)
            guard let base = state.snapshotBase, let section = base.section(kind: BM25SnapshotSection.kind) else {
                preconditionFailure("snapshot lacks BM25 postings")
            }
            var t = Date()
            _ = try BM25SnapshotSection.decode(section.data, documentIds: base.memories.map(\.id))
            decode.append(Date().timeIntervalSince(t) * 1000)
            t = Date()
            _ = PartitionSearchIndex(state: state)
            seeded.append(Date().timeIntervalSince(t) * 1000)
            let bare = PartitionState(key: key, memories: state.memories, history: state.history,
                                      idempotentResponses: state.idempotentResponses, revision: state.revision)
            t = Date()
            _ = PartitionSearchIndex(state: bare)
            scratch.append(Date().timeIntervalSince(t) * 1000)
        }
        seeded.sort()
        scratch.sort()
        decode.sort()
        print(String(format: "search index build after open: %d memories: from snapshot postings p50 %.1f ms (of which decoding the BM25 section %.1f ms), from scratch p50 %.1f ms (n=%d)",
                     size, percentile(seeded, 0.5), percentile(decode, 0.5), percentile(scratch, 0.5), seeded.count))
    }

    func jsonBytes(_ v: JSONValue) -> Int {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return (try? e.encode(v).count) ?? 0
    }

    func md5Like(_ i: Int) -> String {
        let s = String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, radix: 16)
        return String((String(repeating: "0", count: 32) + s + s).suffix(32))
    }

    func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    func printMachine() {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(cpu)")
    }
}
