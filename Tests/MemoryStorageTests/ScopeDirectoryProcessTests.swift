import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// A writer process killed with SIGKILL between its scope-directory update and its append: the entry is extra
/// (its partition holds no such memory), never missing; pruning removes it; `memory-tool scopes repair`
/// rebuilds a lost directory. Needs `swift build` before `swift test` (see ``ToolProcess``).
@Suite(.serialized) struct ScopeDirectoryProcessTests {
    func args(_ b: TestBackend, _ key: PartitionKey) -> [String] {
        ["--storage", b.storageArgument, "--tenant", key.tenant, "--user", key.owner.id]
    }

    @Test func killedBetweenDirectoryUpdateAndAppendLeavesAnExtraEntryOnly() async throws {
        let b = try TestBlobStores.make()
        let u1 = Fixtures.key(user: "u1")
        let u2 = PartitionKey(tenant: u1.tenant, owner: PartitionOwner(kind: .user, id: "u2"))
        let agent = PartitionOwner(kind: .agent, id: "support")
        let first = try await ToolProcess.run(["append"] + args(b, u1) + ["--count", "3", "--agent", "support"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.lines.filter { $0.hasPrefix("ack ") }.count == 3)

        // The second writer sleeps right after putting its entry: kill -9 it there.
        let victim = try ToolProcess.start(["append"] + args(b, u2) + ["--count", "1", "--agent", "support",
                                                                         "--pause-after-directory", "120"])
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let deadline = Date().addingTimeInterval(60)
        while try await !store.partitions(tenant: u1.tenant, carrying: agent).contains(u2) {
            #expect(Date() < deadline, "the writer never put its directory entry: \(victim.errors)")
            if Date() > deadline { victim.kill9(); return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        victim.kill9()
        #expect(try await victim.wait() != 0)
        #expect(victim.lines.filter { $0.hasPrefix("ack ") }.isEmpty, "killed before its append: nothing acknowledged")

        // Extra, not missing: the directory names u2, which holds nothing; u1 keeps every acknowledged memory.
        #expect(Set(try await store.partitions(tenant: u1.tenant, carrying: agent)) == [u1, u2])
        #expect(try await store.read(u2).memories.isEmpty)
        let u1State = try await store.read(u1)
        #expect(u1State.memories.count == 3)
        #expect(u1State.memories.allSatisfy { $0.scopes.agentId == "support" })

        // Repeating the write succeeds; the entry is now backed by a memory.
        let retry = try await ToolProcess.run(["append"] + args(b, u2) + ["--count", "1", "--agent", "support"])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try await store.read(u2).memories.count == 1)

        // Repair: a lost directory comes back from the partitions.
        for item in try await b.store.listAll(prefix: ScopeDirectory.tenantPrefix(u1.tenant)) {
            try await b.store.delete(item.name, condition: .none)
        }
        let repair = try await ToolProcess.run(["scopes", "repair", "--storage", b.storageArgument, "--tenant", u1.tenant])
        #expect(repair.status == 0, "\(repair.stderr)")
        #expect(repair.lines.first == "repaired partitions 2 entries 2 failed 0")
        let listed = try await ToolProcess.run(["scopes", "list", "--storage", b.storageArgument, "--tenant", u1.tenant,
                                                "--kind", "agent", "--id", "support"])
        #expect(Set(listed.lines) == ["partition user u1", "partition user u2"])
    }

    @Test func anExtraEntryLeftByAKilledWriterIsPrunedOnceOld() async throws {
        let b = try TestBlobStores.make()
        let u1 = Fixtures.key(user: "u1")
        let agent = PartitionOwner(kind: .agent, id: "support")
        let victim = try ToolProcess.start(["append"] + args(b, u1) + ["--count", "1", "--agent", "support",
                                                                         "--pause-after-directory", "120"])
        let probe = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let deadline = Date().addingTimeInterval(60)
        while try await probe.partitions(tenant: u1.tenant, carrying: agent).isEmpty {
            if Date() > deadline { victim.kill9(); Issue.record("no directory entry: \(victim.errors)"); return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        victim.kill9()
        _ = try await victim.wait()
        var options = PartitionStoreOptions()
        options.scopeDirectoryRefreshInterval = 0.1
        let pruner = PartitionStore(blobs: b.store, options: options, logger: Logger(label: "test"))
        try await Task.sleep(nanoseconds: 400_000_000)
        let report = try await pruner.pruneScopeDirectory(tenant: u1.tenant)
        #expect(report.entries == 1)
        #expect(try await pruner.partitions(tenant: u1.tenant, carrying: agent).isEmpty)
    }
}
