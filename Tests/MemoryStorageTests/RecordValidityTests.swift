import Foundation
import JSONModel
import Logging
import Testing
@testable import MemoryStorage

/// One validity for writer and reader: the writer never appends what the reader cannot decode, and a whole
/// record that still does not decode costs nothing after it (issue: a poison record hid every later write).
@Suite struct RecordValidityTests {
    func store(_ b: TestBackend, logger: Logger = Logger(label: "test")) -> PartitionStore {
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = 0
        return PartitionStore(blobs: b.store, options: o, logger: logger)
    }

    func add(_ s: PartitionStore, _ key: PartitionKey, _ texts: [String], metadata: JSONValue = .null) async throws {
        let ms = texts.map { Fixtures.memory($0, owner: key.owner, metadata: metadata) }
        _ = try await s.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: ms.map { .add($0) }), ()) }
    }

    /// `{"a": {"a": … {"a": 1}}}` with `depth` levels counted as ``JSONValue/nestingDepth`` counts them.
    static func nested(_ depth: Int) -> JSONValue {
        var v: JSONValue = .number(1)
        for _ in 1..<depth { v = .object(["a": v]) }
        return v
    }

    @Test func nestingDepthCountsLevelsAsTheDecoderDoes() throws {
        #expect(JSONValue.number(1).nestingDepth == 1)
        #expect(JSONValue.object([:]).nestingDepth == 1)
        #expect(JSONValue.array([.array([.null])]).nestingDepth == 3)
        let owner = PartitionOwner(kind: .user, id: "u")
        for depth in [RecordLimits.maxJSONNesting - 1, RecordLimits.maxJSONNesting] {
            let batch = LogBatch(operations: [.add(Fixtures.memory("x", owner: owner, metadata: Self.nested(depth)))])
            #expect(Self.nested(depth).nestingDepth == depth)
            let frame = try LogCodec.encodeVerified(batch)
            #expect(LogCodec.decode(frame, base: 0).batches.count == 1)
        }
        let tooDeep = LogBatch(operations: [.add(Fixtures.memory("x", owner: owner, metadata: Self.nested(RecordLimits.maxJSONNesting + 1)))])
        #expect(throws: BinaryDecodingError.self) { try LogCodec.encodeVerified(tooDeep) }
    }

    @Test func theWriterRefusesARecordTheReaderCouldNotDecodeAndWritesNothing() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let s = store(b)
        try await add(s, key, ["kept"])
        await #expect {
            try await add(s, key, ["poison"], metadata: Self.nested(RecordLimits.maxJSONNesting + 1))
        } throws: { error in
            guard case PartitionStoreError.recordRejected = error else { return false }
            return true
        }
        try await add(s, key, ["after"])
        #expect(try await store(b).read(key).memories.map(\.text) == ["kept", "after"])
    }

    /// A frame with a good CRC around a payload that does not decode (an unknown operation tag).
    static func poisonFrame() -> Data {
        var payload = BinaryWriter()
        payload.u8(LogCodec.payloadVersion)
        payload.uuid(UUID())
        payload.date(Date())
        payload.optionalString(nil)
        payload.u8(0)
        payload.u32(1)
        payload.u8(99)  // no such operation
        var length = BinaryWriter()
        length.u32(UInt32(payload.count))
        let crc = length.buffer.withUnsafeBytes { l in payload.buffer.withUnsafeBytes { CRC32C.update(CRC32C.update(0, l), $0) } }
        var frame = BinaryWriter()
        frame.u32(LogCodec.magic)
        frame.u32(UInt32(payload.count))
        frame.u32(crc)
        frame.bytes(payload.buffer)
        return Data(frame.buffer)
    }

    @Test func aWholeUndecodableRecordMidLogCostsNoLaterRecordAcrossRestartAndCompaction() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let capture = LogCapture()
        let writer = store(b)
        try await add(writer, key, ["one", "two"])
        // Plant the poison at the log's end, as an older or buggy writer would have appended it.
        let manifest = try #require(try await writer.loadManifest(key)).0
        let segment = key.prefix + manifest.active!.name
        let size = try await b.store.properties(segment).size
        _ = try await b.store.appendBlock(segment, data: Self.poisonFrame(), expectedPosition: size)
        // The writer's cached offset is behind the poison: its next write loses the append race, re-reads the
        // tail (skipping the poison) and appends after it.
        try await add(writer, key, ["three"])
        try await add(store(b), key, ["four"])

        let restarted = store(b, logger: capture.logger)
        #expect(try await restarted.read(key).memories.map(\.text).sorted() == ["four", "one", "three", "two"])
        #expect(capture.errors.contains { $0.message.contains("does not decode") && $0.metadata["offset"] == "\(size)" })

        // Compaction refuses to fold what it cannot read, and leaves every record readable.
        await #expect {
            _ = try await restarted.compact(key)
        } throws: { error in
            guard case PartitionStoreError.unreadableRecords(_, let blob, let offset, let records, _) = error else { return false }
            return blob == segment && offset == size && records == 1
        }
        #expect(try await store(b).read(key).memories.map(\.text).sorted() == ["four", "one", "three", "two"])
        try await add(store(b), key, ["five"])
        #expect(try await store(b).read(key).memories.count == 5)
        #expect(try await b.store.properties(segment).size > size, "the segment with the poison is kept")
    }
}
