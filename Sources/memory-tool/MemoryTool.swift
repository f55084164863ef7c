import ArgumentParser

/// Operator and test tool: inspect partitions and logs, and drive writers for the multi-process tests.
@main
struct MemoryTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-tool",
        abstract: "Inspect AgentMemory storage and drive test writers.",
        subcommands: [AppendCommand.self, DumpCommand.self, CompactCommand.self, PartitionsCommand.self, ScopesCommand.self]
    )
}
