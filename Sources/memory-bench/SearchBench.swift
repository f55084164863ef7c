import ArgumentParser
import Foundation
import MemoryCore
import MemoryStorage

/// `memory-bench search`: in-process search latency over one partition (embedding excluded), for several
/// partition sizes and dimensions, unfiltered and with a selective filter. Prints p50/p99, bytes scanned per
/// query and the implied scan bandwidth; the full index build time; and the time to derive the index after a
/// write of 10 memories (plus hybrid search latency on such a derived index).
struct SearchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search latency: int8 scan + float32 rescoring + BM25, with and without a selective filter.")

    @Option(help: "Partition sizes (memories), comma-separated.")
    var sizes: String = "1000,10000,100000"

    @Option(help: "Embedding dimensions, comma-separated.")
    var dims: String = "384,1536"

    @Option(help: "Queries per measurement.")
    var queries: Int = 200

    @Option(name: .customLong("top-k"), help: "Results per query.")
    var topK: Int = 10

    @Option(help: "Ranking: standard (the default) or baseline (before the quality benchmark), to compare costs.")
    var ranking: String = "standard"

    func run() throws {
        guard ranking == "standard" || ranking == "baseline" else { throw ValidationError("--ranking: standard or baseline") }
        print("machine: \(Self.machine())")
        print("ranking: \(ranking)")
        print("search bench: \(queries) queries per row, top_k=\(topK); clustered unit vectors; filter = 1% of the partition (run_id)")
        print(Self.row(["n", "dim", "mode", "p50 ms", "p99 ms", "MB/query", "GB/s"]))
        for d in dims.split(separator: ",").compactMap({ Int($0) }) {
            for n in sizes.split(separator: ",").compactMap({ Int($0) }) {
                try bench(n: n, d: d)
            }
        }
    }

    private func bench(n: Int, d: Int) throws {
        var rng = FastRandom(seed: UInt64(n * 31 + d))
        let clusters = 64
        let centres = (0..<clusters).map { _ in unit((0..<d).map { _ in rng.symmetric() }) }
        // A Zipf-like vocabulary of 5 000 words: a few very common, most rare, like real memory text.
        let vocabulary = (0..<5000).map { "w\($0)" }
        func word() -> String {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            return vocabulary[min(vocabulary.count - 1, Int(exp(u * log(Double(vocabulary.count)))) - 1)]
        }
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
        var memories: [StoredMemory] = []
        memories.reserveCapacity(n)
        for i in 0..<n {
            let c = centres[i % clusters]
            let v = unit(c.map { $0 + 0.8 * rng.symmetric() })
            let words = (0..<8).map { _ in word() }
            memories.append(StoredMemory(
                id: UUID(), text: words.joined(separator: " ") + " \(i)", hash: "",
                scopes: MemoryScopes(userId: "alice", runId: "run\(i % 100)"), metadata: .null, categories: [],
                createdAt: epoch, updatedAt: epoch.addingTimeInterval(Double(i)), embedding: v))
        }
        let state = PartitionState(key: PartitionKey(tenant: "bench", owner: PartitionOwner(kind: .user, id: "alice")),
                                   memories: memories, history: [:], idempotentResponses: [:], revision: 1)
        let buildStart = DispatchTime.now().uptimeNanoseconds
        let index = PartitionSearchIndex(state: state)
        let buildMs = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e6
        // The index after a write of 10 memories, derived from the one above (p50 of a few writes).
        var deriveTimes: [Double] = []
        var derived = index
        for w in 0..<7 {
            var written = state
            written.apply(LogBatch(operations: (0..<10).map { j in
                .add(StoredMemory(id: UUID(), text: "written memory \(w) \(j)", hash: "",
                                  scopes: MemoryScopes(userId: "alice", runId: "run\(j)"), metadata: .null, categories: [],
                                  createdAt: epoch, updatedAt: epoch, embedding: unit(centres[j].map { $0 + 0.8 * rng.symmetric() })))
            }))
            let t0 = DispatchTime.now().uptimeNanoseconds
            guard let next = PartitionSearchIndex(state: written, updating: index) else { throw ValidationError("no derivation") }
            deriveTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            derived = next
        }
        deriveTimes.sort()
        let queryVectors = (0..<queries).map { i in unit(centres[(i * 7) % clusters].map { $0 + 0.8 * rng.symmetric() }) }
        let queryTexts = (0..<queries).map { _ in (0..<3).map { _ in word() }.joined(separator: " ") }
        let userFilter = try MemoryFilter.parse(.object(["user_id": .string("alice")]))
        let selective = try MemoryFilter.parse(.object(["user_id": .string("alice"), "run_id": .string("run7")]))
        let candidates = max(topK * PartitionSearchIndex.rescoreFactor, PartitionSearchIndex.minimumCandidates)
        let rescoreBytes = min(n, candidates) * d * 4
        let fullBytes = index.scanBytes + rescoreBytes
        let filteredBytes = (n / 100) * (d + 4) + min(n / 100, candidates) * d * 4

        func measure(_ label: String, bytes: Int, on index: PartitionSearchIndex = index, _ make: (Int) -> SearchQuery) {
            for i in 0..<min(queries, 20) { _ = index.search(make(i)) }    // warm-up
            var times: [Double] = []
            var sink = 0
            for i in 0..<queries {
                let q = make(i)
                let t0 = DispatchTime.now().uptimeNanoseconds
                sink &+= index.search(q).count
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            let p50 = times[times.count / 2], p99 = times[min(times.count - 1, Int(Double(times.count) * 0.99))]
            let gbps = Double(bytes) / (p50 / 1000) / 1e9
            print(Self.row(["\(n)", "\(d)", label, String(format: "%.3f", p50), String(format: "%.3f", p99),
                            String(format: "%.2f", Double(bytes) / 1e6), String(format: "%.1f", gbps)]) + (sink < 0 ? "!" : ""))
        }
        measure("vector", bytes: fullBytes) { SearchQuery(text: "", vector: queryVectors[$0], topK: topK, filter: userFilter, mode: .vector) }
        measure("vector+filter1%", bytes: filteredBytes) { SearchQuery(text: "", vector: queryVectors[$0], topK: topK, filter: selective, mode: .vector) }
        let options: RankingOptions = ranking == "baseline" ? .baseline : .standard
        measure("hybrid", bytes: fullBytes) {
            SearchQuery(text: queryTexts[$0], vector: queryVectors[$0], topK: topK, filter: userFilter, ranking: options)
        }
        measure("hybrid+filter1%", bytes: filteredBytes) {
            SearchQuery(text: queryTexts[$0], vector: queryVectors[$0], topK: topK, filter: selective, ranking: options)
        }
        measure("hybrid, derived", bytes: fullBytes, on: derived) {
            SearchQuery(text: queryTexts[$0], vector: queryVectors[$0], topK: topK, filter: userFilter, ranking: options)
        }
        // recall@10 of the vector search against brute force over the vectors the partition keeps (int8
        // codes materialised as floats) and, for information, over the embedder's original floats.
        let kept = state.memories.map(\.embedding)
        let original = memories.map(\.embedding)
        var foundKept = 0, foundOriginal = 0, total = 0
        for i in 0..<min(queries, 50) {
            let q = queryVectors[i]
            let got = Set(index.search(SearchQuery(text: "", vector: q, topK: topK, mode: .vector)).map(\.memory.id))
            foundKept += Self.bruteForce(kept, q, topK).filter { got.contains(memories[$0].id) }.count
            foundOriginal += Self.bruteForce(original, q, topK).filter { got.contains(memories[$0].id) }.count
            total += min(topK, n)
        }
        print(Self.row(["\(n)", "\(d)", "recall@\(topK)", String(format: "%.4f", Double(foundKept) / Double(total))])
              + String(format: " vs brute force over the kept vectors (%.4f vs the original floats; %d queries)",
                       Double(foundOriginal) / Double(total), min(queries, 50)))
        print(Self.row(["\(n)", "\(d)", "index build", String(format: "%.1f", buildMs)]) + " ms")
        print(Self.row(["\(n)", "\(d)", "derive after +10", String(format: "%.2f", deriveTimes[deriveTimes.count / 2])])
              + " ms (p50 of \(deriveTimes.count) writes of 10 memories; max \(String(format: "%.2f", deriveTimes.last!)) ms)")
    }

    /// The `k` rows with the highest dot product with `query` (ties: lower row).
    static func bruteForce(_ vectors: [[Float]], _ query: [Float], _ k: Int) -> [Int] {
        let norm = query.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        let unit = query.map { $0 / norm }
        let scores = vectors.map { v in zip(v, unit).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        return scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k).map { $0 }
    }

    static func row(_ cells: [String]) -> String {
        let widths = [8, 6, 17, 9, 9, 10, 7]
        return zip(cells, widths).map { cell, w in
            cell.count >= w ? cell : cell + String(repeating: " ", count: w - cell.count)
        }.joined(separator: " ")
    }

    private func unit(_ v: [Float]) -> [Float] {
        let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu)"
    }
}

/// xorshift64*: fast, deterministic data generation for benchmarks.
private struct FastRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    /// Uniform in [-1, 1).
    mutating func symmetric() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }
}
