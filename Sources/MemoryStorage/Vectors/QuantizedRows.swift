import Foundation

/// The int8 codes and per-row scales of `count` vectors of one dimension, in one buffer laid out exactly as a
/// snapshot's vectors section (docs/snapshot-format.md §2, kind 2): `count × f32 scale`, then
/// `count × dimension` int8 codes, row `r` at `4 count + r · dimension`.
///
/// Why: the vectors are most of a partition's memory, and this is their only copy. Loading a snapshot copies its
/// vectors section into one block; each memory points at its row (``StoredVector``); the search index scans and
/// rescores the codes in place; compaction writes the rows back byte for byte. Vectors applied from the log are
/// quantised once (``Int8Quantizer``) into a block per batch.
///
/// `@unchecked Sendable`: the buffer is written only by the initialisers and freed by `deinit`; in between it is
/// read-only, so any number of threads may read it. Pointers from ``codes(_:)`` stay valid while the block
/// lives: holders keep the block (e.g. through the memories pointing at it).
public final class QuantizedRows: @unchecked Sendable {
    /// Components per vector.
    public let dimension: Int
    /// Number of vectors.
    public let count: Int
    private let storage: UnsafeMutableRawPointer

    /// Size of the buffer: `count × (4 + dimension)`.
    public var byteCount: Int { count * (4 + dimension) }

    private init(count: Int, dimension: Int) {
        self.count = count
        self.dimension = dimension
        let bytes = count * (4 + dimension)
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        LargeBuffers.adviseHugePages(storage, count: bytes)
    }

    /// A copy of a snapshot's vectors section (`section.count` must be `count × (4 + dimension)`).
    public convenience init(section: UnsafeRawBufferPointer, count: Int, dimension: Int) {
        precondition(section.count == count * (4 + dimension), "vectors section size does not match")
        self.init(count: count, dimension: dimension)
        if let source = section.baseAddress { storage.copyMemory(from: source, byteCount: byteCount) }
        #if _endian(big)
        for row in 0..<count {
            let bits = storage.load(fromByteOffset: row * 4, as: UInt32.self)
            storage.storeBytes(of: UInt32(littleEndian: bits), toByteOffset: row * 4, as: UInt32.self)
        }
        #endif
    }

    /// Quantises `vectors`; one whose length is not `dimension` is stored as no vector (scale 0, zero codes).
    public convenience init(quantizing vectors: [[Float]], dimension: Int) {
        self.init(count: vectors.count, dimension: dimension)
        let codes = (storage + 4 * count).assumingMemoryBound(to: Int8.self)
        for (row, vector) in vectors.enumerated() {
            let target = codes + row * dimension
            var scale: Float = 0
            if vector.count == dimension {
                scale = vector.withUnsafeBufferPointer { v in
                    v.baseAddress.map { Int8Quantizer.quantize($0, count: dimension, into: target) } ?? 0
                }
            } else {
                target.initialize(repeating: 0, count: dimension)
            }
            storage.storeBytes(of: scale, toByteOffset: row * 4, as: Float.self)
        }
    }

    deinit { storage.deallocate() }

    /// Row `row`'s scale (0: no usable vector).
    @inlinable
    public func scale(_ row: Int) -> Float { scales[row] }

    /// The `count` scales.
    public var scales: UnsafePointer<Float> { UnsafePointer(storage.assumingMemoryBound(to: Float.self)) }

    /// Row `row`'s `dimension` codes; valid while this block lives.
    @inlinable
    public func codes(_ row: Int) -> UnsafePointer<Int8> { codeBase + row * dimension }

    /// The codes of row 0 (rows follow contiguously).
    public var codeBase: UnsafePointer<Int8> { UnsafePointer((storage + 4 * count).assumingMemoryBound(to: Int8.self)) }

    /// Row `row` dequantised: `Float(code) × scale`.
    public func floats(_ row: Int) -> [Float] {
        Int8Quantizer.dequantize(codes(row), count: dimension, scale: scale(row))
    }

    /// Calls `body` with the buffer in the snapshot section's layout (little-endian scales).
    public func withSectionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        #if _endian(big)
        var copy = [UInt8](UnsafeRawBufferPointer(start: storage, count: byteCount))
        copy.withUnsafeMutableBytes { raw in
            for row in 0..<count {
                raw.storeBytes(of: scale(row).bitPattern.littleEndian, toByteOffset: row * 4, as: UInt32.self)
            }
        }
        return try copy.withUnsafeBytes(body)
        #else
        return try body(UnsafeRawBufferPointer(start: storage, count: byteCount))
        #endif
    }
}
