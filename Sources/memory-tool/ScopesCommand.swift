import ArgumentParser
import Foundation
import MemoryStorage

/// The scope directory (docs/scope-directory.md): list the partitions of an agent, app or run id, or repair the
/// directory from the partitions.
struct ScopesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scopes", abstract: "Inspect or repair the scope directory.",
        subcommands: [ListScopePartitions.self, RepairScopeDirectory.self])
}

/// Output: `partition {kind} {id}` per partition the directory names for the scope id.
struct ListScopePartitions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Partitions holding an agent, app or run id.")

    @Option(help: "Storage location.")
    var storage: String

    @Option(help: "Tenant name.")
    var tenant: String

    @Option(help: "Scope kind: agent, app or run.")
    var kind: String

    @Option(help: "The agent, app or run id.")
    var id: String

    func run() async throws {
        guard let k = OwnerKind(rawValue: kind), k != .user else {
            throw ValidationError("--kind must be agent, app or run (a user's memories are all in its own partition)")
        }
        let blobs: any BlobStore
        do { blobs = try StorageLocation(parsing: storage).makeStore() } catch { throw ValidationError("\(error)") }
        let store = PartitionStore(blobs: blobs, logger: toolLogger())
        for key in try await store.partitions(tenant: tenant, carrying: PartitionOwner(kind: k, id: id)) {
            emit("partition \(key.owner.kind.rawValue) \(key.owner.id)")
        }
    }
}

/// Rebuilds the directory from every partition's live memories, then prunes entries that name no such memory.
/// Output: `repaired partitions {n} entries {n} failed {n}` then `pruned partitions {n} entries {n} failed {n}`
/// per tenant. Exits non-zero when a partition could not be read (its entries are left as they are).
struct RepairScopeDirectory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair", abstract: "Rebuild the scope directory from the partitions, then prune stale entries.")

    @Option(help: "Storage location.")
    var storage: String

    @Option(help: "Tenant (all tenants when omitted).")
    var tenant: String?

    @Option(name: .customLong("prune-age"),
            help: "Prune only entries older than this many seconds (the service uses twice its refresh interval, 600).")
    var pruneAge: Double = 600

    func run() async throws {
        let blobs: any BlobStore
        do { blobs = try StorageLocation(parsing: storage).makeStore() } catch { throw ValidationError("\(error)") }
        var options = PartitionStoreOptions()
        options.scopeDirectoryRefreshInterval = pruneAge / 2
        let store = PartitionStore(blobs: blobs, options: options, logger: toolLogger())
        let rebuilt = try await store.rebuildScopeDirectory(tenant: tenant)
        emit("repaired partitions \(rebuilt.partitions) entries \(rebuilt.entries) failed \(rebuilt.failed)")
        var tenants = tenant.map { [$0] } ?? []
        if tenant == nil { tenants = Array(Set(try await store.partitions(tenant: nil).map(\.tenant))).sorted() }
        var failed = rebuilt.failed
        for t in tenants {
            let pruned = try await store.pruneScopeDirectory(tenant: t)
            failed += pruned.failed
            emit("pruned partitions \(pruned.partitions) entries \(pruned.entries) failed \(pruned.failed)")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
