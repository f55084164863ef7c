import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// Sections a layer above derives at compaction (``PartitionStoreOptions/derivedSections``): stored in the
/// snapshot, handed back untouched with the snapshot's memories as ``PartitionState/snapshotBase``.
@Suite struct DerivedSectionsTests {
    func store(_ b: TestBackend, derive: (@Sendable (PartitionState) -> [SnapshotSection])?) -> PartitionStore {
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = 0
        o.derivedSections = derive
        return PartitionStore(blobs: b.store, options: o, logger: Logger(label: "test"))
    }

    func add(_ s: PartitionStore, _ key: PartitionKey, _ texts: [String]) async throws {
        let ms = texts.map { Fixtures.memory($0, owner: key.owner) }
        _ = try await s.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: ms.map { .add($0) }), ()) }
    }

    /// A section listing the texts in state order, plus one of a kind reserved for the engine.
    static let derive: @Sendable (PartitionState) -> [SnapshotSection] = { state in
        [SnapshotSection(kind: 100, data: Array(state.memories.map(\.text).joined(separator: "|").utf8)),
         SnapshotSection(kind: 9, data: [1, 2, 3])]
    }

    @Test func compactionStoresDerivedSectionsAndALoadedStateCarriesThem() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let writer = store(b, derive: Self.derive)
        try await add(writer, key, ["one", "two", "three"])
        _ = try await writer.write(key, space: Fixtures.space) { st in
            .append(LogBatch(operations: [.delete(id: st.memories[0].id, at: Date())]), ())
        }
        #expect(try await writer.compact(key).compacted)

        var state = try await store(b, derive: nil).read(key)
        let base = try #require(state.snapshotBase)
        #expect(base.revision == state.revision && base.lineage == state.journal.lineage)
        #expect(base.memories.map(\.id) == state.memories.map(\.id))
        // Only the derived kind is kept; it describes the memories in snapshot order.
        #expect(base.sections.map(\.kind) == [100])
        #expect(String(decoding: base.section(kind: 100)!.data, as: UTF8.self) == base.memories.map(\.text).joined(separator: "|"))

        // Applying batches leaves the base as it was.
        let before = base.memories.map(\.id)
        state.apply(LogBatch(operations: [.delete(id: state.memories[0].id, at: Date()),
                                          .add(Fixtures.memory("four", owner: key.owner))]))
        #expect(state.snapshotBase?.memories.map(\.id) == before)
        #expect(state.snapshotBase?.revision == state.revision - 1)
        #expect(state.changes(since: base.revision, lineage: base.lineage)?.count == 2)
    }

    @Test func aSnapshotWithoutDerivedSectionsHasNoBase() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let writer = store(b, derive: nil)
        try await add(writer, key, ["one", "two"])
        #expect(try await writer.compact(key).compacted)
        let state = try await store(b, derive: Self.derive).read(key)
        #expect(state.memories.count == 2)
        #expect(state.snapshotBase == nil)
    }

    @Test func aNewSnapshotDerivesAgainInsteadOfCopyingOldSections() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let writer = store(b, derive: Self.derive)
        try await add(writer, key, ["one"])
        #expect(try await writer.compact(key).compacted)
        try await add(writer, key, ["two"])
        #expect(try await store(b, derive: Self.derive).compact(key).compacted)
        let state = try await store(b, derive: nil).read(key)
        #expect(state.snapshotBase?.section(kind: 100)?.data == Array("one|two".utf8))
        #expect(state.snapshotBase?.sections.count == 1)
    }
}
