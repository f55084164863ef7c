import ArgumentParser

/// Benchmarks, run as `swift run -c release memory-bench <suite>`. Each suite prints medians and percentiles
/// with the machine it ran on; none of them is a test.
@main
struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-bench",
        abstract: "AgentMemory benchmarks (storage, embed, search, fanout, http, faults, quality).",
        subcommands: [
            // Each suite lives in its own file: StorageBench.swift, EmbedBench.swift, SearchBench.swift,
            // HTTPBench.swift, FanOutBench.swift, FaultBench.swift, QualityBench.swift.
            HTTPBench.self,
            FanOutBench.self,
            FaultBench.self,
            EmbedBench.self,
            SearchBench.self,
            StorageBench.self,
            QualityBench.self,
        ]
    )
}
