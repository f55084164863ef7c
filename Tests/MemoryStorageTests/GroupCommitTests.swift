import Foundation
import Logging
import TestSupport
import Testing
@testable import MemoryStorage

/// Group commit: writes to one partition that queue behind each other share one append.
@Suite struct GroupCommitTests {
    func store(_ blobs: any BlobStore) -> PartitionStore {
        PartitionStore(blobs: blobs, options: PartitionStoreOptions(), logger: Logger(label: "test"))
    }

    /// One write of one memory; answers the memory's id and how many memories the body saw.
    func addOne(_ s: PartitionStore, _ key: PartitionKey, _ m: StoredMemory) async throws -> (id: UUID, seen: Int, state: PartitionState) {
        let (seen, state) = try await s.write(key, space: Fixtures.space) { st -> WriteDecision<Int> in
            .append(LogBatch(operations: [.add(m)]), st.memories.count)
        }
        return (m.id, seen, state)
    }

    /// Starts one writer, holds its append at the gate, queues `queued` more behind it; returns their tasks
    /// (the first one first) once they all wait.
    func queueBehindHeldAppend(_ s: PartitionStore, _ gated: GatedBlobStore, _ key: PartitionKey,
                               _ memories: [StoredMemory]) async throws -> [Task<(id: UUID, seen: Int, state: PartitionState), any Error>] {
        gated.closeGate()
        let first = Task { try await addOne(s, key, memories[0]) }
        #expect(await eventually { gated.heldCount == 1 }, "the first append never reached the gate")
        var tasks = [first]
        // One at a time, so that the queue's order is the memories' order.
        for (i, m) in memories.dropFirst().enumerated() {
            tasks.append(Task { try await addOne(s, key, m) })
            #expect(await eventually { s.commits.pendingCount(key) == i + 1 }, "writer \(i + 1) never queued")
        }
        return tasks
    }

    @Test func concurrentAppendsAreDurableAndReadInTheirOrderAfterRestart() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b.store)
        let memories = (0..<24).map { Fixtures.memory("fact \($0)", owner: key.owner) }
        let results = try await withThrowingTaskGroup(of: (id: UUID, seen: Int, state: PartitionState).self) { group in
            for m in memories { group.addTask { try await addOne(s, key, m) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for r in results { #expect(r.state.memory(r.id) != nil, "a write's returned state lacks its own memory") }
        // A new process (no cache) replays the log: every acknowledged memory is there, each at the position
        // its body decided on (it saw exactly the memories before it).
        let reopened = try await store(b.store).read(key)
        #expect(reopened.memories.count == memories.count)
        #expect(reopened.revision == UInt64(memories.count))
        for r in results { #expect(reopened.memories[r.seen].id == r.id) }
        #expect(Set(results.map(\.seen)) == Set(0..<memories.count))
    }

    @Test func oneAppendServesEveryWriterThatQueued() async throws {
        let b = try TestBlobStores.make()
        let gated = GatedBlobStore(b.store)
        let key = Fixtures.key()
        let s = store(gated)
        _ = try await addOne(s, key, Fixtures.memory("before", owner: key.owner))
        let before = gated.appendCount
        let memories = (0..<9).map { Fixtures.memory("queued \($0)", owner: key.owner) }
        let tasks = try await queueBehindHeldAppend(s, gated, key, memories)
        gated.openGate()
        var results: [(id: UUID, seen: Int, state: PartitionState)] = []
        for t in tasks { results.append(try await t.value) }
        // The held append, then one append for the eight queued writers.
        #expect(gated.appendCount - before == 2)
        #expect(results.map(\.id) == memories.map(\.id), "each write answers its own result")
        #expect(results.map(\.seen) == Array(1...9))
        let reopened = try await store(b.store).read(key)
        #expect(reopened.memories.map(\.text) == ["before"] + memories.map(\.text))
    }

    @Test func aFailedSharedAppendAcknowledgesNoneAndLaterWritesWork() async throws {
        let b = try TestBlobStores.make()
        let gated = GatedBlobStore(b.store)
        let key = Fixtures.key()
        let s = store(gated)
        _ = try await addOne(s, key, Fixtures.memory("before", owner: key.owner))
        // The held append succeeds; the next one (the group's) fails.
        gated.failAppend(number: gated.appendCount + 2)
        let memories = (0..<6).map { Fixtures.memory("queued \($0)", owner: key.owner) }
        let tasks = try await queueBehindHeldAppend(s, gated, key, memories)
        gated.openGate()
        _ = try await tasks[0].value
        for t in tasks.dropFirst() {
            do {
                _ = try await t.value
                Issue.record("a write of the failed group was acknowledged")
            } catch let PartitionStoreError.storage(partition, underlying) {
                #expect(partition == key.description)
                guard case .unavailable = underlying else { Issue.record("unexpected \(underlying)"); continue }
            }
        }
        #expect(try await store(b.store).read(key).memories.map(\.text) == ["before", "queued 0"])
        // The partition takes writes again, through the same store and its cache.
        let later = Fixtures.memory("later", owner: key.owner)
        let r = try await addOne(s, key, later)
        #expect(r.seen == 2)
        #expect(try await store(b.store).read(key).memories.map(\.text) == ["before", "queued 0", "later"])
    }

    @Test func aGroupLargerThanOneAppendIsSplitAtTheSizeLimit() async throws {
        let key = Fixtures.key()
        let memories = (0..<9).map { Fixtures.memory("queued \($0)", owner: key.owner) }
        let sizes = try memories.map { try LogCodec.encodeVerified(LogBatch(operations: [.add($0)])).count }
        // Room for two records per append, never three.
        let limit = 2 * sizes.max()! + sizes.min()! / 2
        let (file, folder) = try TestBlobStores.fileStore()
        let gated = GatedBlobStore(FileBlobStore(root: folder, durable: false, maxAppendBlockBytes: limit))
        let s = store(gated)
        _ = try await addOne(s, key, Fixtures.memory("before", owner: key.owner))
        let before = gated.appendCount
        let tasks = try await queueBehindHeldAppend(s, gated, key, memories)
        gated.openGate()
        var seen: [Int] = []
        for t in tasks { seen.append(try await t.value.seen) }
        // The held append, then the eight queued writers in groups of two.
        #expect(gated.appendCount - before == 5)
        #expect(seen == Array(1...9))
        #expect(try await store(file).read(key).memories.map(\.text) == ["before"] + memories.map(\.text))
    }

    @Test func aWriteThatSkipsAfterAQueuedAppendSeesItAndAnswersOnlyOnceItIsDurable() async throws {
        let b = try TestBlobStores.make()
        let gated = GatedBlobStore(b.store)
        let key = Fixtures.key()
        let s = store(gated)
        _ = try await addOne(s, key, Fixtures.memory("before", owner: key.owner))
        gated.failAppend(number: gated.appendCount + 2)
        let memories = (0..<2).map { Fixtures.memory("queued \($0)", owner: key.owner) }
        gated.closeGate()
        let first = Task { try await addOne(s, key, memories[0]) }
        #expect(await eventually { gated.heldCount == 1 })
        let second = Task { try await addOne(s, key, memories[1]) }
        #expect(await eventually { s.commits.pendingCount(key) == 1 })
        // Decides nothing to append, on the state the queued write before it left.
        let reader = Task {
            try await s.write(key, space: Fixtures.space) { st -> WriteDecision<Int> in .skip(st.memories.count) }
        }
        #expect(await eventually { s.commits.pendingCount(key) == 2 })
        gated.openGate()
        _ = try await first.value
        await #expect(throws: PartitionStoreError.self) { _ = try await second.value }
        // The skip was decided on a state that never became durable: it fails with the group.
        await #expect(throws: PartitionStoreError.self) { _ = try await reader.value }
        let (count, _) = try await s.write(key, space: Fixtures.space) { st -> WriteDecision<Int> in .skip(st.memories.count) }
        #expect(count == 2)
    }
}
