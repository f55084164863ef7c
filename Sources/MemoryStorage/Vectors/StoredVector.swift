/// One memory's embedding as the engine keeps it: the exact float32 vector an embedder returned (until the
/// memory is applied to a ``PartitionState``), or a row of int8 codes in a shared ``QuantizedRows`` block (every
/// memory of a state: those loaded from a snapshot, and those applied from the log, quantised once on apply).
///
/// Why: a 384-d float vector per memory is 1,536 bytes on the heap, four times its codes; a partition keeps
/// each vector once, as codes, and floats are materialised only when asked for (``floats``).
public struct StoredVector: Sendable {
    enum Storage: Sendable {
        case floats([Float])
        case row(QuantizedRows, Int)
    }

    var storage: Storage

    /// An exact float vector.
    public init(_ floats: [Float]) { storage = .floats(floats) }

    /// Row `row` of `rows`.
    public init(rows: QuantizedRows, row: Int) {
        precondition(row >= 0 && row < rows.count, "row out of range")
        storage = .row(rows, row)
    }

    /// Number of components.
    public var dimension: Int {
        switch storage {
        case .floats(let v): return v.count
        case .row(let rows, _): return rows.dimension
        }
    }

    /// The vector as floats: exact for an unquantised vector, else `Float(code) × scale` (allocates).
    public var floats: [Float] {
        switch storage {
        case .floats(let v): return v
        case .row(let rows, let row): return rows.floats(row)
        }
    }

    /// The block and row holding this vector's codes, when it is quantised.
    public var quantizedRow: (rows: QuantizedRows, row: Int)? {
        if case .row(let rows, let row) = storage { return (rows, row) }
        return nil
    }

    /// True when the vector is held as int8 codes.
    public var isQuantized: Bool { quantizedRow != nil }

    /// The dot product with `other` (0 when the dimensions differ), without materialising this vector.
    public func dot(_ other: [Float]) -> Float {
        guard other.count == dimension else { return 0 }
        switch storage {
        case .floats(let v):
            var sum: Float = 0
            for j in v.indices { sum += v[j] * other[j] }
            return sum
        case .row(let rows, let row):
            let codes = rows.codes(row)
            var sum: Float = 0
            for j in other.indices { sum += Float(codes[j]) * other[j] }
            return withExtendedLifetime(rows) { sum * rows.scale(row) }
        }
    }

    /// The codes and scale of this vector: stored ones as they are, float ones quantised by ``Int8Quantizer``.
    public var codes: (codes: [Int8], scale: Float) {
        switch storage {
        case .floats(let v):
            return Int8Quantizer.quantize(v)
        case .row(let rows, let row):
            let codes = withExtendedLifetime(rows) { Array(UnsafeBufferPointer(start: rows.codes(row), count: rows.dimension)) }
            return (codes, rows.scale(row))
        }
    }
}

extension StoredVector: Equatable {
    /// Two exact vectors are equal when their floats are; when either is quantised, when their codes and
    /// scales are (the engine keeps nothing finer).
    public static func == (a: StoredVector, b: StoredVector) -> Bool {
        switch (a.storage, b.storage) {
        case (.floats(let x), .floats(let y)):
            return x == y
        case (.row(let r, let i), .row(let s, let j)) where r === s && i == j:
            return true
        default:
            guard a.dimension == b.dimension else { return false }
            let x = a.codes, y = b.codes
            return x.scale == y.scale && x.codes == y.codes
        }
    }
}

extension StoredVector {
    /// Replaces every float vector among `vectors` by its row in one new block per dimension (so a batch of
    /// memories shares one allocation), quantised by ``Int8Quantizer``. Quantised vectors are left as they are.
    public static func quantizeAll(_ vectors: inout [StoredVector]) {
        var byDimension: [Int: [Int]] = [:]
        for i in vectors.indices {
            if case .floats(let v) = vectors[i].storage, !v.isEmpty { byDimension[v.count, default: []].append(i) }
        }
        for (dimension, indices) in byDimension {
            let rows = QuantizedRows(quantizing: indices.map { vectors[$0].floats }, dimension: dimension)
            for (row, i) in indices.enumerated() { vectors[i] = StoredVector(rows: rows, row: row) }
        }
    }
}
