import MemoryStorage

/// Where each row of a search segment finds its int8 codes and scale: a pointer into the ``QuantizedRows``
/// block the memory's ``StoredVector`` lives in (the snapshot's block, or the block its batch was quantised
/// into), and that row's scale. The index scans and rescores the codes in place; it copies no vector.
///
/// Rows whose memory has no vector of the segment's dimension get scale 0 (they never rank) and point at a zero
/// row. Memories still holding float vectors (built outside a ``PartitionState``, e.g. in tests) are quantised
/// here once, by ``Int8Quantizer``, into a block of the table's own.
///
/// `@unchecked Sendable`: the pointers are immutable and point into blocks this table retains (``blocks``),
/// which are themselves immutable; nothing is written after `init`.
final class CodeRowTable: @unchecked Sendable {
    let dimension: Int
    /// Row `r`'s codes (`dimension` of them).
    let pointers: [UnsafePointer<Int8>]
    /// Row `r`'s scale; 0 for a row without a usable vector.
    let scales: [Float]
    /// The blocks ``pointers`` point into, kept alive with the table.
    private let blocks: [QuantizedRows]

    init(vectors: [StoredVector], dimension d: Int) {
        var blocks: [QuantizedRows] = []
        var seen = Set<ObjectIdentifier>()
        var pending: [Int] = []
        let zero = QuantizedRows(quantizing: [[]], dimension: d)
        blocks.append(zero)
        var pointers = [UnsafePointer<Int8>](repeating: zero.codes(0), count: vectors.count)
        var scales = [Float](repeating: 0, count: vectors.count)
        var last: QuantizedRows? = nil
        for i in vectors.indices {
            if let (rows, r) = vectors[i].quantizedRow {
                guard rows.dimension == d, d > 0 else { continue }
                if rows !== last, seen.insert(ObjectIdentifier(rows)).inserted { blocks.append(rows) }
                last = rows
                pointers[i] = rows.codes(r)
                scales[i] = rows.scale(r)
            } else if vectors[i].dimension == d, d > 0 {
                pending.append(i)
            }
        }
        if !pending.isEmpty {
            let own = QuantizedRows(quantizing: pending.map { vectors[$0].floats }, dimension: d)
            blocks.append(own)
            for (r, i) in pending.enumerated() {
                pointers[i] = own.codes(r)
                scales[i] = own.scale(r)
            }
        }
        self.dimension = d
        self.pointers = pointers
        self.scales = scales
        self.blocks = blocks
    }
}
