import Foundation
import Testing
@testable import MemoryStorage

/// One copy of each vector: int8 codes quantised by one quantiser, held in shared blocks, materialised as floats
/// only on demand, and written back to snapshots byte for byte.
@Suite struct VectorStorageTests {
    let owner = PartitionOwner(kind: .user, id: "alice")
    static let space16 = EmbeddingSpace(model: "test-16", dimension: 16)

    /// The quantisation the snapshot writer used before this code existed (docs/snapshot-format.md §3), kept
    /// here as the reference: codes, scale, and the reconstructed floats `code × scale`.
    static func reference(_ x: [Float]) -> (codes: [Int8], scale: Float, floats: [Float]) {
        var maxAbs: Float = 0
        for v in x { maxAbs = max(maxAbs, abs(v)) }
        let scale = maxAbs > 0 ? maxAbs / 127 : 0
        let inv = scale > 0 ? 1 / scale : 0
        let codes = x.map { Int8(max(-127, min(127, ($0 * inv).rounded()))) }
        return (codes, scale, codes.map { Float($0) * scale })
    }

    static func randomUnit(_ d: Int) -> [Float] {
        let v = (0..<d).map { _ in Float.random(in: -1...1) }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    /// The section of `kind` in an encoded snapshot (header and table as in docs/snapshot-format.md §1–2).
    static func section(_ kind: UInt32, in data: Data) throws -> [UInt8] {
        let bytes = [UInt8](data)
        func u32(_ o: Int) -> UInt32 { bytes[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ o: Int) -> Int { Int(bytes[o..<o + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        for i in 0..<Int(u32(8)) {
            let entry = 16 + 32 * i
            if u32(entry) == kind { return Array(bytes[u64(entry + 8)..<u64(entry + 8) + u64(entry + 16)]) }
        }
        throw SnapshotFormatError(detail: "no section \(kind)")
    }

    @Test func quantiserMatchesTheDocumentedFormula() {
        for d in [1, 8, 384] {
            let x = Self.randomUnit(d)
            let (codes, scale) = Int8Quantizer.quantize(x)
            let expected = Self.reference(x)
            #expect(codes == expected.codes)
            #expect(scale == expected.scale)
            #expect(codes.contains(127) || codes.contains(-127), "the largest component maps to ±127")
        }
        let zero = Int8Quantizer.quantize([0, 0, 0])
        #expect(zero.scale == 0 && zero.codes == [0, 0, 0])
        let broken = Int8Quantizer.quantize([0.5, .nan, 0.1])
        #expect(broken.scale == 0 && broken.codes == [0, 0, 0], "a non-finite vector has no direction")
        #expect(Int8Quantizer.quantize([Float]()).codes.isEmpty)
    }

    @Test func materialisedFloatsEqualTheOldDequantisation() throws {
        var state = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        let ms = (0..<50).map { Fixtures.memory("m\($0)", owner: owner, dim: 24) }
        state.apply(LogBatch(operations: ms.map { .add($0) }))
        // Applied: quantised once, into one block for the batch.
        let blocks = Set(state.memories.compactMap { $0.vector.quantizedRow.map { ObjectIdentifier($0.rows) } })
        #expect(blocks.count == 1)
        let back = try SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: state, space: nil)), key: state.key)
        for (original, (applied, loaded)) in zip(ms, zip(state.memories, back.memories)) {
            let expected = Self.reference(original.embedding).floats
            #expect(applied.embedding == expected)
            #expect(loaded.embedding == expected)
            #expect(loaded.vector.isQuantized)
            let query = Self.randomUnit(24)
            let dot = zip(expected, query).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs(loaded.vector.dot(query) - dot) < 1e-5)
        }
    }

    @Test func compactionKeepsCodesByteForByte() throws {
        var state = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        state.apply(LogBatch(operations: (0..<40).map { .add(Fixtures.memory("m\($0)", owner: owner, dim: 16)) }))
        let first = SnapshotCodec.encode(SnapshotContents(state: state, space: Self.space16))
        let loaded = try SnapshotCodec.decode(first, key: state.key).state
        // Unchanged state: the block is written back whole, identical to the section it was read from.
        let again = SnapshotCodec.encode(SnapshotContents(state: loaded, space: Self.space16))
        #expect(try Self.section(2, in: again) == Self.section(2, in: first))

        // After changes (a removal moves the last memory, an update keeps its vector, an add is quantised on
        // apply), every memory's codes and scale are still the ones it had.
        var changed = loaded
        var updated = changed.memories[5]
        updated.text = "updated"
        let added = Fixtures.memory("new", owner: owner, dim: 16)
        changed.apply(LogBatch(operations: [.purge(id: changed.memories[2].id, at: Date()), .update(updated), .add(added)]))
        let second = try SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: changed, space: Self.space16)), key: state.key)
        let before = Dictionary(uniqueKeysWithValues: loaded.memories.map { ($0.id, $0.vector.codes) })
        #expect(second.memories.count == 40)
        for m in second.memories {
            let codes = m.vector.codes
            if m.id == added.id {
                #expect(codes.codes == Self.reference(added.embedding).codes)
                #expect(codes.scale == Self.reference(added.embedding).scale)
            } else {
                let old = try #require(before[m.id])
                #expect(codes.codes == old.codes && codes.scale == old.scale)
            }
        }
    }

    @Test func statesQuantiseFloatVectorsOnce() {
        let ms = (0..<10).map { Fixtures.memory("m\($0)", owner: owner) }
        let state = PartitionState(key: PartitionKey(tenant: "acme", owner: owner), memories: ms, history: MemoryHistory(),
                                   idempotentResponses: [:], revision: 1)
        #expect(state.memories.allSatisfy { $0.vector.isQuantized })
        // Already-quantised memories are kept as they are (same block, same rows).
        let again = PartitionState(key: state.key, memories: state.memories, history: MemoryHistory(),
                                   idempotentResponses: [:], revision: 1)
        for (a, b) in zip(state.memories, again.memories) {
            #expect(a.vector.quantizedRow?.rows === b.vector.quantizedRow?.rows)
            #expect(a.vector.quantizedRow?.row == b.vector.quantizedRow?.row)
        }
        // Equality: exact floats compare exactly; a quantised vector equals the floats that quantise to it.
        #expect(StoredVector([0.1, 0.2]) != StoredVector([0.1, 0.2000001]))
        #expect(state.memories[0].vector == ms[0].vector)
        #expect(state.memories[0].vector != ms[1].vector)
    }
}
