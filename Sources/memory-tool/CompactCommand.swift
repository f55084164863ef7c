import ArgumentParser
import Foundation
import MemoryStorage

/// Compacts one partition; `--crash-after STEP` exits the process (code 86, no cleanup) right after that step,
/// to test that a rerun finishes the job.
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Compact a partition.")

    @OptionGroup var partition: PartitionOptions

    @Option(help: "Seconds unreferenced blobs are kept before deletion.")
    var grace: Double = 600

    @Option(name: .customLong("crash-after"),
            help: "Exit right after this step: \(CompactionStep.allCases.map(\.rawValue).joined(separator: ", ")).")
    var crashAfter: String?

    func run() async throws {
        let key = try partition.key()
        var options = PartitionStoreOptions()
        options.garbageGracePeriod = grace
        if let crashAfter {
            guard let step = CompactionStep(rawValue: crashAfter) else {
                throw ValidationError("unknown step '\(crashAfter)'")
            }
            options.compactionCrashHook = { s in
                if s == step {
                    emit("crash \(s.rawValue)")
                    _exit(86)
                }
            }
        }
        let store = PartitionStore(blobs: try partition.blobs(), options: options, logger: toolLogger())
        let r = try await store.compact(key)
        emit("compacted \(r.compacted) live \(r.liveMemories) folded \(r.foldedLogBytes) snapshot \(r.snapshotBytes) deleted \(r.deletedBlobs)")
    }
}

/// Lists partitions of a tenant (or all tenants).
struct PartitionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "partitions", abstract: "List partitions.")

    @Option(help: "Storage location.")
    var storage: String

    @Option(help: "Tenant (all tenants when omitted).")
    var tenant: String?

    func run() async throws {
        let blobs: any BlobStore
        do { blobs = try StorageLocation(parsing: storage).makeStore() } catch { throw ValidationError("\(error)") }
        let store = PartitionStore(blobs: blobs, logger: toolLogger())
        for key in try await store.partitions(tenant: tenant) {
            emit("partition \(key.tenant) \(key.owner.kind.rawValue) \(key.owner.id)")
        }
    }
}
