import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// The scope directory (docs/scope-directory.md): written by the write path before the append, listed by
/// agent / app / run id, pruned once stale, rebuilt from the partitions.
@Suite struct ScopeDirectoryTests {
    func memory(_ text: String, _ scopes: MemoryScopes, owner: PartitionOwner) -> StoredMemory {
        var m = Fixtures.memory(text, owner: owner)
        m.scopes = scopes
        return m
    }

    func write(_ store: PartitionStore, _ key: PartitionKey, _ memories: [StoredMemory]) async throws {
        _ = try await store.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: memories.map { .add($0) }), ()) }
    }

    @Test func aWriteListsItsPartitionUnderEveryAgentAppAndRunIdItCarries() async throws {
        let b = try TestBlobStores.make()
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let u1 = Fixtures.key(user: "u1")
        let tenant = u1.tenant
        let u2 = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: "u2 / ünïcode"))
        let agentOwn = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .agent, id: "A"))
        try await write(store, u1, [memory("t", MemoryScopes(userId: "u1", agentId: "A", appId: "shop", runId: "r/1"), owner: u1.owner)])
        try await write(store, u2, [memory("t", MemoryScopes(userId: u2.owner.id, agentId: "A"), owner: u2.owner)])
        try await write(store, agentOwn, [memory("t", MemoryScopes(agentId: "A"), owner: agentOwn.owner)])
        let userOnly = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: "u3"))
        try await write(store, userOnly, [memory("t", MemoryScopes(userId: "u3"), owner: userOnly.owner)])

        let agent = try await store.partitions(tenant: tenant, carrying: PartitionOwner(kind: .agent, id: "A"))
        #expect(Set(agent) == [u1, u2, agentOwn])
        #expect(try await store.partitions(tenant: tenant, carrying: PartitionOwner(kind: .app, id: "shop")) == [u1])
        #expect(try await store.partitions(tenant: tenant, carrying: PartitionOwner(kind: .run, id: "r/1")) == [u1])
        #expect(try await store.partitions(tenant: tenant, carrying: PartitionOwner(kind: .run, id: "r")).isEmpty)
        #expect(try await store.partitions(tenant: "other", carrying: PartitionOwner(kind: .agent, id: "A")).isEmpty)
        let entries = try await b.store.listAll(prefix: ScopeDirectory.tenantPrefix(tenant))
        #expect(entries.count == 5, "A×3, shop, r/1 and nothing for a user-only memory: \(entries.map(\.name))")
    }

    @Test func entryNamesRoundTripAnyId() async throws {
        let b = try TestBlobStores.make()
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let long = String(repeating: "ж", count: 256)
        for owner in ["a/b_c ü", long] {
            let key = PartitionKey(tenant: "t-1", owner: PartitionOwner(kind: .user, id: owner))
            for scope in [PartitionOwner(kind: .agent, id: "x/y"), PartitionOwner(kind: .run, id: "_"),
                          PartitionOwner(kind: .app, id: ""), PartitionOwner(kind: .agent, id: long + "🦄")] {
                let name = ScopeDirectory.entryName(scope: scope, partition: key)
                #expect(name.hasPrefix(ScopeDirectory.prefix(tenant: key.tenant, scope: scope)))
                #expect(throws: Never.self) { try FileBlobStore.validate(name) }
                // A hashed segment is read back from the entry's content.
                _ = try await b.store.put(name, data: ScopeDirectory.entryData(scope: scope, partition: key), condition: .none)
                let parsed = try await store.scopeEntry(name, tenant: key.tenant)
                #expect(parsed?.scope == scope)
                #expect(parsed?.partition == key)
            }
        }
        #expect(ScopeDirectory.parse("t/x/s/user/u/user/u") == nil, "users are not indexed")
    }

    @Test func aProcessPutsAnEntryOncePerRefreshInterval() async throws {
        let b = try TestBlobStores.make()
        var options = PartitionStoreOptions()
        options.scopeDirectoryRefreshInterval = 3600
        let store = PartitionStore(blobs: b.store, options: options, logger: Logger(label: "test"))
        let key = Fixtures.key()
        let scopes = MemoryScopes(userId: "alice", agentId: "A")
        try await write(store, key, [memory("one", scopes, owner: key.owner)])
        let name = ScopeDirectory.entryName(scope: PartitionOwner(kind: .agent, id: "A"), partition: key)
        let first = try await b.store.properties(name).etag
        try await write(store, key, [memory("two", scopes, owner: key.owner)])
        #expect(try await b.store.properties(name).etag == first, "confirmed recently: not written again")
        // Another process (no cache) writes it again before its append.
        let other = PartitionStore(blobs: b.store, options: options, logger: Logger(label: "test"))
        try await write(other, key, [memory("three", scopes, owner: key.owner)])
        #expect(try await b.store.properties(name).etag != first)
    }

    @Test func pruningRemovesOnlyOldEntriesOfScopesAPartitionNoLongerHolds() async throws {
        let b = try TestBlobStores.make()
        var options = PartitionStoreOptions()
        options.scopeDirectoryRefreshInterval = 0.05
        let store = PartitionStore(blobs: b.store, options: options, logger: Logger(label: "test"))
        var patient = PartitionStoreOptions()
        patient.scopeDirectoryRefreshInterval = 60
        let patientPruner = PartitionStore(blobs: b.store, options: patient, logger: Logger(label: "test"))
        let key = Fixtures.key()
        let kept = memory("kept", MemoryScopes(userId: "alice", agentId: "A"), owner: key.owner)
        let gone = memory("gone", MemoryScopes(userId: "alice", agentId: "B"), owner: key.owner)
        try await write(store, key, [kept, gone])
        _ = try await store.write(key, space: nil) { _ in .append(LogBatch(operations: [.purge(id: gone.id, at: Date())]), ()) }
        let young = try await patientPruner.pruneScopeDirectory(tenant: key.tenant)
        #expect(young.entries == 0, "entries younger than twice the refresh interval are never pruned")
        try await Task.sleep(nanoseconds: 300_000_000)
        let report = try await store.pruneScopeDirectory(tenant: key.tenant)
        #expect(report.entries == 1)
        #expect(try await store.partitions(tenant: key.tenant, carrying: PartitionOwner(kind: .agent, id: "A")) == [key])
        #expect(try await store.partitions(tenant: key.tenant, carrying: PartitionOwner(kind: .agent, id: "B")).isEmpty)
        // The process forgot the pruned entry: a new memory of B puts it again before its append.
        try await write(store, key, [memory("back", MemoryScopes(userId: "alice", agentId: "B"), owner: key.owner)])
        #expect(try await store.partitions(tenant: key.tenant, carrying: PartitionOwner(kind: .agent, id: "B")) == [key])
    }

    @Test func rebuildRestoresALostDirectory() async throws {
        let b = try TestBlobStores.make()
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let u1 = Fixtures.key(user: "u1")
        let u2 = PartitionKey(tenant: u1.tenant, owner: PartitionOwner(kind: .user, id: "u2"))
        try await write(store, u1, [memory("a", MemoryScopes(userId: "u1", agentId: "A", runId: "r"), owner: u1.owner)])
        try await write(store, u2, [memory("b", MemoryScopes(userId: "u2", agentId: "A"), owner: u2.owner)])
        for item in try await b.store.listAll(prefix: ScopeDirectory.tenantPrefix(u1.tenant)) {
            try await b.store.delete(item.name, condition: .none)
        }
        #expect(try await store.partitions(tenant: u1.tenant, carrying: PartitionOwner(kind: .agent, id: "A")).isEmpty)
        let report = try await store.rebuildScopeDirectory(tenant: u1.tenant)
        #expect(report == ScopeDirectoryReport(partitions: 2, entries: 3, failed: 0))
        #expect(Set(try await store.partitions(tenant: u1.tenant, carrying: PartitionOwner(kind: .agent, id: "A"))) == [u1, u2])
        #expect(try await store.partitions(tenant: u1.tenant, carrying: PartitionOwner(kind: .run, id: "r")) == [u1])
    }
}
