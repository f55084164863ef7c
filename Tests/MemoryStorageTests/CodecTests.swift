import Foundation
import Testing
@testable import MemoryStorage

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // RFC 3720 (iSCSI) appendix B.4.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for cut in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let a = bytes[..<cut].withUnsafeBytes { CRC32C.update(0, $0) }
            let ab = bytes[cut...].withUnsafeBytes { CRC32C.update(a, $0) }
            #expect(ab == CRC32C.checksum(bytes))
        }
    }

    @Test func hardwareAndTablePathsAgree() {
        #if arch(x86_64)
        #expect(CRC32C.usesHardware, "every x86-64-v3 CPU has SSE4.2")
        #endif
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<100_003).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for length in [0, 1, 7, 8, 9, 63, 64, 65, 4096, 100_003] {
            bytes[..<length].withUnsafeBytes { raw in
                #expect(CRC32C.update(0, raw) == CRC32C.tableUpdate(0, raw), "length \(length)")
                #expect(CRC32C.update(0x1234_5678, raw) == CRC32C.tableUpdate(0x1234_5678, raw), "length \(length)")
            }
        }
    }
}

@Suite struct LogCodecTests {
    let owner = PartitionOwner(kind: .user, id: "alice")

    func sampleBatches() -> [LogBatch] {
        let a = Fixtures.memory("likes tea", owner: owner, metadata: .object(["k": .array([.number(1.5), .bool(true), .null, .string("é")])]))
        var a2 = a
        a2.text = "likes coffee"
        a2.expirationDate = Date(timeIntervalSince1970: 2_000_000_000.25)
        return [
            LogBatch(operations: [.add(a), .add(Fixtures.memory("lives in Oslo", owner: owner))],
                     idempotencyKey: "key-1", idempotentResponse: Data("{\"ok\":1}".utf8)),
            LogBatch(operations: [.update(a2)]),
            LogBatch(operations: [.delete(id: a.id, at: Date(timeIntervalSince1970: 5)), .purge(id: UUID(), at: Date(timeIntervalSince1970: 6))]),
            LogBatch(operations: []),
        ]
    }

    @Test func roundTripsEveryOperation() {
        let batches = sampleBatches()
        var data = Data()
        for b in batches { data.append(LogCodec.encode(b)) }
        let d = LogCodec.decode(data, base: 0)
        #expect(d.damage == nil)
        #expect(d.batches.map(\.batch) == batches)
        #expect(d.validEnd == data.count)
        // Decoding from an offset reports absolute positions.
        let first = LogCodec.encode(batches[0]).count
        let tail = LogCodec.decode(data.subdata(in: first..<data.count), base: first)
        #expect(tail.batches.map(\.batch) == Array(batches.dropFirst()))
        #expect(tail.batches.first?.end == first + LogCodec.encode(batches[1]).count)
    }

    @Test func everyTruncationStopsAtTheLastWholeRecord() {
        let batches = sampleBatches()
        var data = Data()
        var ends: [Int] = []
        for b in batches { data.append(LogCodec.encode(b)); ends.append(data.count) }
        for cut in 0..<data.count {
            let d = LogCodec.decode(data.prefix(cut), base: 0)
            let whole = ends.filter { $0 <= cut }
            #expect(d.batches.count == whole.count)
            #expect(d.validEnd == (whole.last ?? 0))
            #expect((d.damage != nil) == (cut != d.validEnd))
        }
    }

    @Test func everyFlippedByteIsDetected() {
        let batches = sampleBatches()
        let one = LogCodec.encode(batches[0])
        var data = one
        data.append(LogCodec.encode(batches[1]))
        for i in stride(from: 0, to: one.count, by: 3) {
            var bad = data
            bad[i] ^= 0x5A
            let d = LogCodec.decode(bad, base: 0)
            #expect(d.batches.isEmpty, "flipping byte \(i) must not yield a record")
            #expect(d.damage?.offset == 0)
        }
        // Garbage after valid records: the records survive, the garbage is reported where it starts.
        var tail = data
        tail.append(contentsOf: [0x41, 0x4D, 0x4C, 0x52, 0xFF, 0xFF, 0, 0, 1, 2, 3, 4, 5])
        let d = LogCodec.decode(tail, base: 100)
        #expect(d.batches.count == 2)
        #expect(d.damage?.offset == 100 + data.count)
    }
}

@Suite struct SnapshotCodecTests {
    let owner = PartitionOwner(kind: .user, id: "alice")

    func sampleState() -> PartitionState {
        var s = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        let ms = (0..<20).map { Fixtures.memory("memory number \($0)", owner: owner, metadata: .object(["i": .number(Double($0))])) }
        s.apply(LogBatch(operations: ms.map { .add($0) }, idempotencyKey: "k", idempotentResponse: Data("resp".utf8)))
        var u = ms[3]
        u.text = "memory three, updated"
        s.apply(LogBatch(operations: [.update(u)]))
        s.apply(LogBatch(operations: [.delete(id: ms[4].id, at: Date(timeIntervalSince1970: 9))]))
        s.apply(LogBatch(operations: [.purge(id: ms[5].id, at: Date(timeIntervalSince1970: 9))]))
        return s
    }

    @Test func roundTripKeepsEverythingAndVectorsClose() throws {
        let s = sampleState()
        let data = SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space))
        let back = try SnapshotCodec.decode(data, key: s.key)
        #expect(back.revision == s.revision)
        #expect(back.space == Fixtures.space)
        #expect(back.history == s.history)
        #expect(back.idempotentResponses == s.idempotentResponses)
        #expect(back.memories.count == s.memories.count)
        for (a, b) in zip(s.memories, back.memories) {
            var a0 = a, b0 = b
            a0.embedding = []
            b0.embedding = []
            #expect(a0 == b0)
            // The state holds the codes the snapshot stores: the same vector comes back, float for float.
            #expect(a.vector.isQuantized && b.vector.isQuantized)
            #expect(a.embedding == b.embedding)
        }
        #expect(back.history[s.memories[0].id]?.first?.newText == s.memories[0].text)
    }

    @Test func largeSnapshotsDecodeChunkByChunkInOrder() throws {
        var st = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        let ms = (0..<(SnapshotCodec.recordsPerChunk * 2 + 17)).map { Fixtures.memory("m\($0)", owner: owner) }
        st.apply(LogBatch(operations: ms.map { .add($0) }))
        let back = try SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: st, space: Fixtures.space)), key: st.key)
        #expect(back.memories.map(\.id) == ms.map(\.id))
        #expect(back.memories.map(\.text) == ms.map(\.text))
        #expect(back.memories.last?.embedding.count == 8)
    }

    @Test func unknownSectionsAreSkippedAndKept() throws {
        var c = SnapshotContents(state: sampleState(), space: Fixtures.space)
        c.extraSections = [SnapshotSection(kind: 0x4D32_5342, data: Array("postings".utf8))]
        let back = try SnapshotCodec.decode(SnapshotCodec.encode(c), key: c.key)
        #expect(back.extraSections == c.extraSections)
        #expect(back.memories.count == c.memories.count)
    }

    @Test func anyCorruptionFailsTheChecksum() throws {
        let s = sampleState()
        let data = SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space))
        var failures = 0
        var tried = 0
        for i in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            var bad = data
            bad[i] ^= 0x01
            tried += 1
            do {
                let back = try SnapshotCodec.decode(bad, key: s.key)
                // Only alignment padding between sections is not covered; the contents must then be intact.
                #expect(back.memories.map(\.text) == s.memories.map(\.text))
            } catch let e as SnapshotFormatError {
                failures += 1
                #expect(e.detail.contains("checksum") || e.detail.contains("magic"))
            }
        }
        #expect(failures >= tried - 8)
        #expect(throws: SnapshotFormatError.self) { try SnapshotCodec.decode(data.prefix(data.count - 9), key: s.key) }
    }
}
