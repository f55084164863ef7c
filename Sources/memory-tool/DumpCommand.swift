import ArgumentParser
import Foundation
import MemoryStorage

/// Prints a partition's live memories, one per line, in the partition's order (which every reader derives
/// identically from the snapshot and the log).
///
/// Output: `revision {n}` then `memory {id} {hash} {text}` per live memory, then `history {count}`.
struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "Print a partition's memories.")

    @OptionGroup var partition: PartitionOptions

    func run() async throws {
        let key = try partition.key()
        let store = PartitionStore(blobs: try partition.blobs(), logger: toolLogger())
        let state = try await store.read(key)
        emit("revision \(state.revision)")
        for m in state.memories {
            emit("memory \(m.id.uuidString) \(m.hash) \(m.text)")
        }
        emit("history \(state.history.count)")
    }
}
