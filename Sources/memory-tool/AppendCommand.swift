import ArgumentParser
import Foundation
import MemoryStorage

/// Appends test memories, one request (one log append) at a time, and prints each acknowledged request.
///
/// Output: one line per acknowledged request, `ack {writer-id} {request#} {memory-id},{memory-id},…`, written
/// and flushed right after the append returned (so a process killed a moment later has printed exactly the
/// requests that are durable).
struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "append", abstract: "Append test memories to a partition.")

    @OptionGroup var partition: PartitionOptions

    @Option(help: "Number of requests to write.")
    var count: Int = 100

    @Option(help: "Memories per request (one append each request).")
    var batch: Int = 1

    @Option(name: .customLong("writer-id"), help: "Writer name, part of each memory's text.")
    var writerId: String = "w"

    @Option(help: "Embedding dimension of the test vectors.")
    var dim: Int = 8

    @Option(help: "Text bytes per memory (padded).")
    var textBytes: Int = 0

    @Option(help: "An agent id every memory also carries (so the write puts a scope-directory entry).")
    var agent: String?

    @Option(name: .customLong("pause-after-directory"),
            help: "Seconds to sleep after a write's scope-directory entries are put, before its append (the process tests kill -9 it there).")
    var pauseAfterDirectory: Double?

    func run() async throws {
        let key = try partition.key()
        var options = PartitionStoreOptions()
        if let pauseAfterDirectory {
            options.scopeDirectoryCrashHook = { Thread.sleep(forTimeInterval: pauseAfterDirectory) }
        }
        let store = PartitionStore(blobs: try partition.blobs(), options: options, logger: toolLogger())
        var scopes = MemoryScopes()
        scopes[key.owner.kind] = key.owner.id
        if let agent { scopes.agentId = agent }
        let space = EmbeddingSpace(model: "test-hash", dimension: dim)
        for i in 0..<count {
            let memories = (0..<batch).map { j -> StoredMemory in
                var text = "\(writerId) request \(i) memory \(j)"
                if text.utf8.count < textBytes { text += String(repeating: ".", count: textBytes - text.utf8.count) }
                var rng = SystemRandomNumberGenerator()
                var v = (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }
                let norm = max(1e-6, v.reduce(0) { $0 + $1 * $1 }.squareRoot())
                v = v.map { $0 / norm }
                let now = Date()
                return StoredMemory(id: key.owner.newMemoryId(), text: text, hash: "\(writerId)-\(i)-\(j)",
                                    scopes: scopes, metadata: .object(["writer": .string(writerId), "i": .number(Double(i))]),
                                    createdAt: now, updatedAt: now, embedding: v)
            }
            let batch = LogBatch(operations: memories.map { .add($0) })
            _ = try await store.write(key, space: space) { _ in .append(batch, ()) }
            emit("ack \(writerId) \(i) " + memories.map { $0.id.uuidString }.joined(separator: ","))
        }
    }
}
