import Foundation
import Logging
import Testing
@testable import MemoryStorage

@Suite struct PartitionStoreTests {
    func store(_ b: TestBackend, grace: TimeInterval = 0, logger: Logger = Logger(label: "test")) -> PartitionStore {
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = grace
        return PartitionStore(blobs: b.store, options: o, logger: logger)
    }

    func add(_ s: PartitionStore, _ key: PartitionKey, _ texts: [String]) async throws -> [StoredMemory] {
        let ms = texts.map { Fixtures.memory($0, owner: key.owner) }
        _ = try await s.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: ms.map { .add($0) }), ()) }
        return ms
    }

    @Test func readYourWritesAcrossInstances() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let a = store(b), other = store(b)
        #expect(try await a.read(key).memories.isEmpty)
        let ms = try await add(a, key, ["one", "two"])
        #expect(try await other.read(key).memories.map(\.id) == ms.map(\.id))
        let more = try await add(other, key, ["three"])
        let seen = try await a.read(key)
        #expect(seen.memories.map(\.text) == ["one", "two", "three"])
        // The state keeps the vector as int8 codes: the same codes as the written floats quantise to.
        #expect(seen.memory(more[0].id)?.vector.isQuantized == true)
        #expect(seen.memory(more[0].id)?.vector == more[0].vector)
        #expect(seen.revision == 2)
    }

    @Test func bodySeesLatestStateAndSkipWritesNothing() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let a = store(b)
        _ = try await add(a, key, ["x"])
        let (count, state) = try await a.write(key, space: Fixtures.space) { st -> WriteDecision<Int> in .skip(st.memories.count) }
        #expect(count == 1)
        #expect(state.revision == 1)
        #expect(try await store(b).read(key).revision == 1)
    }

    @Test func embeddingSpaceMismatchIsRefused() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let a = store(b)
        _ = try await add(a, key, ["x"])
        let other = EmbeddingSpace(model: "other", dimension: 384)
        await #expect(throws: PartitionStoreError.embeddingSpaceMismatch(partition: key.description, stored: Fixtures.space, requested: other)) {
            _ = try await a.write(key, space: other) { _ in .append(LogBatch(operations: []), ()) }
        }
    }

    @Test func concurrentWritersFromManyInstancesLandExactlyOnce() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let ids = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for w in 0..<4 {
                group.addTask {
                    let s = self.store(b)
                    var ids: [UUID] = []
                    for i in 0..<15 { ids += try await self.add(s, key, ["w\(w) r\(i)"]).map(\.id) }
                    return ids
                }
            }
            return try await group.reduce(into: [UUID]()) { $0 += $1 }
        }
        let state = try await store(b).read(key)
        #expect(state.memories.count == 60)
        #expect(Set(state.memories.map(\.id)) == Set(ids))
        #expect(state.revision == 60)
    }

    @Test func ownerDirectoryFindsPartitionsByIdHint() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b)
        let m = try await add(s, key, ["x"])[0]
        let found = try await s.partitions(tenant: key.tenant, idHintHex: PartitionOwner.idHintHex(of: m.id))
        #expect(found == [key])
        #expect(try await s.partitions(tenant: key.tenant, idHintHex: "000000000000").isEmpty)
        let agentKey = PartitionKey(tenant: key.tenant, owner: PartitionOwner(kind: .agent, id: "bot/1"))
        _ = try await add(s, agentKey, ["y"])
        #expect(Set(try await s.partitions(tenant: key.tenant)) == [key, agentKey])
        #expect(Set(try await s.partitions(tenant: nil)).isSuperset(of: [key, agentKey]))
    }

    @Test func compactionFoldsErasesPurgedBytesAndKeepsState() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b)
        let ms = try await add(s, key, ["keep me", "SECRET-PURGED-TEXT", "deleted one"])
        _ = try await s.write(key, space: nil) { _ in
            .append(LogBatch(operations: [.purge(id: ms[1].id, at: Date()), .delete(id: ms[2].id, at: Date())]), ())
        }
        let before = try await store(b).read(key)
        let r = try await s.compact(key)
        #expect(r.compacted)
        #expect(r.liveMemories == 1)
        let after = try await store(b).read(key)
        #expect(after.memories.map(\.text) == before.memories.map(\.text))
        #expect(after.history == before.history)
        #expect(after.revision == before.revision)
        #expect(after.history[ms[1].id] == nil)
        #expect(after.history[ms[2].id]?.map(\.event) == [.add, .delete])
        // The purged text is physically gone from every blob.
        for item in try await b.store.listAll(prefix: key.prefix) {
            let bytes = try await b.store.get(item.name).data
            #expect(bytes.range(of: Data("SECRET-PURGED-TEXT".utf8)) == nil, "purged text still in \(item.name)")
        }
        // Writes after compaction and a second compaction.
        _ = try await add(s, key, ["after"])
        _ = try await s.compact(key)
        #expect(try await store(b).read(key).memories.map(\.text).sorted() == ["after", "keep me"])
        // Only the manifest, one snapshot and one log segment are left (grace period 0).
        let names = try await b.store.listAll(prefix: key.prefix).map { String($0.name.dropFirst(key.prefix.count)) }
        #expect(names.count == 3)
        #expect(names.contains("manifest.json"))
    }

    @Test func compactionKeepsWritesMadeWhileItRuns() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b)
        var expected = Set(try await add(s, key, (0..<50).map { "base \($0)" }).map(\.id))
        let written = try await withThrowingTaskGroup(of: [UUID].self) { group in
            group.addTask {
                var ids: [UUID] = []
                let w = self.store(b)
                for i in 0..<40 { ids += try await self.add(w, key, ["during \(i)"]).map(\.id) }
                return ids
            }
            group.addTask {
                for _ in 0..<4 { _ = try await self.store(b).compact(key) }
                return []
            }
            return try await group.reduce(into: [UUID]()) { $0 += $1 }
        }
        expected.formUnion(written)
        _ = try await s.compact(key)
        #expect(Set(try await store(b).read(key).memories.map(\.id)) == expected)
    }

    @Test func emptiedPartitionLosesAllItsBlobs() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b)
        let ms = try await add(s, key, ["a", "b"])
        _ = try await s.write(key, space: nil) { _ in .append(LogBatch(operations: ms.map { .purge(id: $0.id, at: Date()) }), ()) }
        let r = try await s.compact(key)
        #expect(r.compacted)
        // Only the scope-directory entries remain (ids, no memory bytes) until a sweep prunes them.
        let left = try await b.store.listAll(prefix: "t/\(BlobNameEscaping.escape(key.tenant))/")
        #expect(left.map(\.name) == [ScopeDirectory.entryName(scope: PartitionOwner(kind: .agent, id: "agent-1"), partition: key)])
        var options = PartitionStoreOptions()
        options.scopeDirectoryRefreshInterval = 0
        #expect(try await PartitionStore(blobs: b.store, options: options, logger: Logger(label: "test"))
            .pruneScopeDirectory(tenant: key.tenant).entries == 1)
        #expect(try await b.store.listAll(prefix: "t/\(BlobNameEscaping.escape(key.tenant))/").isEmpty)
        #expect(try await s.read(key).memories.isEmpty)
        // The partition can be written again afterwards.
        _ = try await add(s, key, ["again"])
        #expect(try await store(b).read(key).memories.map(\.text) == ["again"])
        #expect(try await s.partitions(tenant: key.tenant, idHintHex: key.owner.idHintHex) == [key])
    }

    @Test func corruptTailIsSkippedWithAWarningAndWritingGoesOn() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let capture = LogCapture()
        let s = store(b, logger: capture.logger)
        _ = try await add(s, key, ["first", "second"])
        let manifest = try JSONSerialization.jsonObject(with: try await b.store.get(key.prefix + "manifest.json").data) as? [String: Any]
        let logs = manifest?["logs"] as? [[String: Any]]
        let active = try #require(logs?.last?["name"] as? String)
        let size = try await b.store.properties(key.prefix + active).size
        // Committed garbage that looks like the start of a record.
        try await b.store.appendBlock(key.prefix + active, data: Data([0x41, 0x4D, 0x4C, 0x52, 9, 0, 0, 0, 1, 2, 3, 4, 5, 6]), expectedPosition: size)
        let fresh = store(b, logger: capture.logger)
        #expect(try await fresh.read(key).memories.map(\.text) == ["first", "second"])
        let w = try #require(capture.warnings.first)
        #expect(w.metadata["offset"] == "\(size)")
        #expect(w.metadata["blob"] == "\(key.prefix + active)")
        #expect(w.metadata["partition"] == "\(key)")
        _ = try await add(fresh, key, ["third"])
        #expect(try await store(b).read(key).memories.map(\.text) == ["first", "second", "third"])
        _ = try await fresh.compact(key)
        #expect(try await store(b).read(key).memories.map(\.text) == ["first", "second", "third"])
    }
}
