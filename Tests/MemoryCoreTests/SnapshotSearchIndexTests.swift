import Foundation
import Logging
import MemoryStorage
import Testing
@testable import MemoryCore

/// A search index built from the BM25 postings compaction stored in the snapshot answers exactly like one
/// built from scratch, also after later writes; a snapshot without (or with unusable) postings still works.
@Suite("Search index from snapshot postings")
struct SnapshotSearchIndexTests {
    static let space = EmbeddingSpace(model: "test", dimension: 32)
    let root: URL
    let blobs: FileBlobStore
    let key = RetrievalFixtures.key

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("snapidx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        blobs = FileBlobStore(root: root, durable: false)
    }

    func store(_ options: PartitionStoreOptions = PartitionStoreOptions()) -> PartitionStore {
        var o = options
        o.garbageGracePeriod = 0
        return PartitionStore(blobs: blobs, options: o, logger: Logger(label: "test"))
    }

    /// Writes `count` memories and a few random changes, then compacts with `options`.
    func writeAndCompact(_ writer: inout RandomPartitionWriter, count: Int, options: PartitionStoreOptions) async throws {
        let s = store(options)
        for _ in 0..<count / 100 {
            let adds = (0..<100).map { _ in LogOperation.add(writer.memory()) }
            _ = try await s.write(key, space: Self.space) { _ in .append(LogBatch(operations: adds), ()) }
        }
        for _ in 0..<5 {
            _ = try await s.write(key, space: Self.space) { st in .append(writer.batch(for: st, maxOperations: 6), ()) }
        }
        #expect(try await s.compact(key).compacted)
    }

    /// The same memories, in the same order, without a snapshot base: what a build from scratch sees.
    static func bare(_ state: PartitionState) -> PartitionState {
        PartitionState(key: state.key, memories: state.memories, history: state.history,
                       idempotentResponses: state.idempotentResponses, revision: state.revision)
    }

    @Test("from the snapshot, then with a tail after writes: same answers as a build from scratch")
    func endToEnd() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var writer = RandomPartitionWriter(seed: 21, dimension: 32)
        try await writeAndCompact(&writer, count: 400, options: MemoryService.storeOptions())

        let reader = store()
        var state = try await reader.read(key)
        let snapshot = try #require(state.snapshotBase)
        #expect(snapshot.section(kind: BM25SnapshotSection.kind) != nil)
        #expect(SnapshotSeed(state: state) != nil)
        let seeded = PartitionSearchIndex(state: state)
        #expect(!seeded.isIncremental && seeded.baseRevision == state.revision)
        // The index scans the snapshot's own codes: its rows point into the block the memories point into.
        let (block, firstRow) = try #require(snapshot.memories.first?.vector.quantizedRow)
        #expect(seeded.base.vectors.table.pointers.first == block.codes(firstRow))
        #expect(snapshot.memories.indices.allSatisfy { seeded.base.vectors.table.scales[$0] == block.scale($0) })
        try IndexComparison.expectSame(seeded, PartitionSearchIndex(state: Self.bare(state)), writer: &writer, step: 0)

        let cache = SearchIndexCache(capacity: 2)
        for step in 1...4 {
            _ = try await reader.write(key, space: Self.space) { st in .append(writer.batch(for: st, maxOperations: 6), ()) }
            state = try await reader.read(key)
            let index = PartitionSearchIndex(state: state)
            #expect(index.isIncremental && index.baseRevision == snapshot.revision, "step \(step)")
            try IndexComparison.expectSame(index, PartitionSearchIndex(state: Self.bare(state)), writer: &writer, step: step)
            let cached = await cache.index(for: state)
            #expect(cached.baseRevision == snapshot.revision)
        }
        // One build (from the snapshot, with a tail), then derivations from its base.
        #expect(await counts(cache) == (1, 3))
    }

    @Test("many changes since the snapshot: a build from scratch")
    func tooManyChanges() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var writer = RandomPartitionWriter(seed: 22, dimension: 32)
        try await writeAndCompact(&writer, count: 400, options: MemoryService.storeOptions())
        let reader = store()
        let adds = (0..<200).map { _ in LogOperation.add(writer.memory()) }
        _ = try await reader.write(key, space: Self.space) { _ in .append(LogBatch(operations: adds), ()) }
        let state = try await reader.read(key)
        #expect(state.snapshotBase != nil && SnapshotSeed(state: state) == nil)
        let index = PartitionSearchIndex(state: state)
        #expect(!index.isIncremental && index.baseRevision == state.revision)
        try IndexComparison.expectSame(index, PartitionSearchIndex(state: Self.bare(state)), writer: &writer, step: 0)
    }

    @Test("a snapshot without postings, or with unusable ones, still gives a full, correct index",
          arguments: [false, true])
    func withoutUsablePostings(damaged: Bool) async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var writer = RandomPartitionWriter(seed: 23, dimension: 32)
        var options = PartitionStoreOptions()
        if damaged {
            // Postings of other memories (one missing): they decode, but do not describe the snapshot.
            options.derivedSections = { state in
                let docs = state.memories.dropLast().map { ($0.id, $0.text) }
                return [SnapshotSection(kind: BM25SnapshotSection.kind, data: BM25SnapshotSection.encode(BM25Index(documents: docs)))]
            }
        }
        try await writeAndCompact(&writer, count: 300, options: options)
        let state = try await store().read(key)
        #expect((state.snapshotBase != nil) == damaged)
        #expect(SnapshotSeed(state: state) == nil)
        let index = PartitionSearchIndex(state: state)
        #expect(!index.isIncremental && index.count == state.memories.count)
        try IndexComparison.expectSame(index, PartitionSearchIndex(state: Self.bare(state)), writer: &writer, step: 0)
    }
}
