import ArgumentParser
import Foundation
import ModelClients

/// `memory-bench embed`: throughput and latency of the in-process all-MiniLM-L6-v2 embedder on typical
/// ~12-word memories, at batch 1 and batch 32, for each matrix-multiply backend (int8 and float weights). Needs the weights
/// (`scripts/fetch-minilm.sh`). Reference on the dev machine: PyTorch 10.2 ms per query, 418 sentences/s at
/// batch 32.
struct EmbedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentences/s at batch 1 and 32 and one-query latency of the in-process MiniLM embedder.")

    @Option(help: "Model folder (default: $MEMORY_MINILM_PATH or ./models/all-MiniLM-L6-v2).")
    var modelPath: String?

    @Option(help: "Backend: automatic, int8VNNI, int8, float, openBLAS, swiftSIMD, or all (int8VNNI, int8, openBLAS, swiftSIMD back to back, each that loads).")
    var backend: String = "all"

    @Option(help: "Cores to use (default: all). With 1, the process CPU time approximates the wall time of an idle machine.")
    var threads: Int?

    @Option(help: "Single-query runs.")
    var queries: Int = 200

    @Option(help: "Batch-of-32 runs.")
    var batches: Int = 30

    func run() async throws {
        let directory = modelPath.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? MiniLMEmbedder.modelDirectory()
        let backends: [MiniLMMatrixBackend]
        if backend == "all" {
            backends = [.int8VNNI, .int8, .openBLAS, .swiftSIMD]
        } else if let one = MiniLMMatrixBackend(rawValue: backend) {
            backends = [one]
        } else {
            throw ValidationError("unknown backend \(backend); use all or one of "
                + MiniLMMatrixBackend.allCases.map(\.rawValue).joined(separator: ", "))
        }
        print(EmbedBenchMachine.describe())
        print(EmbedBenchMachine.load())
        let sentences = EmbedBenchCorpus.sentences(count: 256)
        let words = sentences.map { $0.split(separator: " ").count }
        print("corpus: \(sentences.count) memories, \(Double(words.reduce(0, +)) / Double(words.count)) words each on average")
        for choice in backends {
            let loadStart = DispatchTime.now()
            let embedder: MiniLMEmbedder
            do {
                embedder = try MiniLMEmbedder(modelDirectory: directory, matrixBackend: choice, threads: threads)
            } catch {
                print("\n[\(choice.rawValue)] not available: \(error)")
                continue
            }
            let tokens = sentences.map { embedder.tokenizer.encode($0).count }
            print("\n[\(embedder.matrixBackendName)] loaded in \(milliseconds(since: loadStart)) ms; "
                  + "\(Double(tokens.reduce(0, +)) / Double(tokens.count)) tokens per memory incl. [CLS]/[SEP]")
            _ = embedder.embedSynchronously(Array(sentences.prefix(32)))  // warm-up

            var latencies: [Double] = []
            var cpuStart = processCPUMilliseconds()
            for i in 0..<queries {
                let start = DispatchTime.now()
                _ = embedder.embedSynchronously([sentences[i % sentences.count]])
                latencies.append(milliseconds(since: start))
            }
            let singleCPU = (processCPUMilliseconds() - cpuStart) / Double(queries)
            latencies.sort()
            let mean = latencies.reduce(0, +) / Double(latencies.count)
            print(String(format: "batch 1 : p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  → %.0f sentences/s (mean %.2f ms)",
                         percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 0.99),
                         1000 / mean, mean))
            print(String(format: "          process CPU %.2f ms per query", singleCPU))

            var batchTimes: [Double] = []
            cpuStart = processCPUMilliseconds()
            for i in 0..<batches {
                let offset = (i * 32) % (sentences.count - 32)
                let batch = Array(sentences[offset..<(offset + 32)])
                let start = DispatchTime.now()
                _ = embedder.embedSynchronously(batch)
                batchTimes.append(milliseconds(since: start))
            }
            let batchCPU = (processCPUMilliseconds() - cpuStart) / Double(batches)
            batchTimes.sort()
            print(String(format: "batch 32: p50 %.1f ms  p90 %.1f ms per batch  → %.0f sentences/s at the median",
                         percentile(batchTimes, 0.5), percentile(batchTimes, 0.9),
                         32_000 / percentile(batchTimes, 0.5)))
            print(String(format: "          process CPU %.1f ms per batch (%.0f sentences per CPU-second)",
                         batchCPU, 32_000 / batchCPU))
        }
        print("\nreference (PyTorch, same machine): 10.2 ms per query, 418 sentences/s at batch 32")
    }

    private func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
    }

    /// User + system CPU time of the whole process (all threads).
    private func processCPUMilliseconds() -> Double {
        Double(clock()) * 1000 / Double(CLOCKS_PER_SEC)
    }

    private func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }
}

/// Deterministic "typical memories": about 12 words, the kind an agent stores about a user.
enum EmbedBenchCorpus {
    static func sentences(count: Int) -> [String] {
        let subjects = ["The user", "Alice", "My manager", "The customer", "Bob from finance", "Our team lead",
                        "The new intern", "Caroline"]
        let verbs = ["prefers", "usually asks for", "does not like", "wants to schedule", "recently mentioned",
                     "is allergic to", "keeps forgetting about", "really enjoys"]
        let objects = ["dark mode in every editor and terminal", "weekly invoices sent on Monday mornings",
                       "vegetarian restaurants near the downtown office", "short meetings with a written agenda",
                       "hiking trips in the mountains during summer", "the quarterly report due next Friday",
                       "jazz concerts at the small club on Fifth Street", "reminders two days before deadlines"]
        let tails = ["this year.", "at work.", "since March.", "on weekends.", "for the project.", "again."]
        return (0..<count).map { i in
            "\(subjects[i % subjects.count]) \(verbs[(i / 3) % verbs.count]) \(objects[(i / 7) % objects.count]) \(tails[i % tails.count])"
        }
    }
}

/// `nproc`, the CPU model and its vector extensions, from /proc/cpuinfo.
enum EmbedBenchMachine {
    /// The load average, since other work on the machine skews wall-clock numbers.
    static func load() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unknown"
        return "load average (1/5/15 min): " + text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func describe() -> String {
        var model = "unknown CPU"
        var extensions: [String] = []
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in info.split(separator: "\n") {
                if line.hasPrefix("model name"), let value = line.split(separator: ":").last {
                    model = value.trimmingCharacters(in: .whitespaces)
                }
                if line.hasPrefix("flags") {
                    let flags = Set(line.split(separator: " ").map(String.init))
                    extensions = ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter(flags.contains)
                    break
                }
            }
        }
        return "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(model), "
            + "vector extensions: \(extensions.joined(separator: " "))"
    }
}
