import Foundation

import Foundation
import MemoryStorage
import VectorKernels

/// A segment's embeddings as int8 codes with a per-row scale, read in place from the memories' blocks
/// (``CodeRowTable``): the scan ranks rows by `s_r · Σ c·q` (codes `c` of row `r`, the query's codes `q` widened
/// to `Int16`; the query's own scale is common to all rows and dropped), and rescoring computes
/// `s_r · Σ c_j · u_j` with the unit float query `u` — the exact cosine of the vector the engine keeps
/// (`code × scale`), so a search ranks as brute force over the memories' materialised vectors.
struct QuantizedVectors: Sendable {
    let dimension: Int
    let count: Int
    let table: CodeRowTable

    init(vectors: [StoredVector], dimension: Int) {
        self.dimension = dimension
        self.count = vectors.count
        self.table = CodeRowTable(vectors: vectors, dimension: dimension)
    }

    /// True when row `row` has a usable vector of the index's dimension.
    func hasVector(_ row: Int) -> Bool { table.scales[row] > 0 }

    /// Bytes one full scan reads (codes and scales).
    var scanBytes: Int { count * (dimension + 4) }

    /// Scans at least this many code bytes before splitting a scan across cores. Below about 1 MiB the cost
    /// of waking the other cores (tens of microseconds) eats the gain; above it, on this 2-core machine, the
    /// split measured 1.6× faster (10k × 384: 0.36 → 0.22 ms p50).
    static let parallelScanBytes = 1 << 20

    /// Cores to split a scan over, read once: `activeProcessorCount` reads the cgroup files on every call.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// The `limit` rows with the highest approximate similarity to `query` among `selection`, best first
    /// (ties to the lower row), or in no particular order when not `ordered` (a search ranks them itself).
    ///
    /// Large scans are split into contiguous row ranges, one per core, each keeping its own best `limit`,
    /// then merged (the union of the parts' best contains the overall best).
    func approximateTop(_ query: QuantizedQuery, limit: Int, selection: RowSelection,
                        parallelThreshold: Int = parallelScanBytes, ordered: Bool = true) -> [ScoredRow] {
        guard limit > 0, count > 0 else { return [] }
        let scanned: Int
        switch selection {
        case .none: return []
        case .all: scanned = count
        case .rows(let set): scanned = set.cardinality
        }
        let cores = Self.cores
        let parts = scanned * dimension >= parallelThreshold && cores > 1 && count >= 128 ? min(cores, 8) : 1
        if parts == 1 {
            let top = scan(query, limit: limit, selection: selection, rows: 0..<count)
            return ordered ? top.sortedDescending() : top.unordered
        }
        // Part boundaries on multiples of 64 so each part owns whole bitmap words.
        let chunk = ((count + parts - 1) / parts + 63) / 64 * 64
        let collected = ScanPartResults()
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = min(count, p * chunk), hi = min(count, (p + 1) * chunk)
            collected.add(scan(query, limit: limit, selection: selection, rows: lo..<hi).unordered)
        }
        var merged = TopCandidates(capacity: limit)
        for c in collected.all() { merged.insert(row: c.row, score: c.score) }
        return ordered ? merged.sortedDescending() : merged.unordered
    }

    /// Rows per call of the dot-product kernel in an unfiltered scan (their results fit in 1 KiB of stack).
    static let scanBatch = 256

    /// Scans the selected rows of `rows` (whose bounds are multiples of 64, or `count`).
    private func scan(_ query: QuantizedQuery, limit: Int, selection: RowSelection, rows: Range<Int>) -> TopCandidates {
        var top = TopCandidates(capacity: limit)
        let d = dimension
        table.pointers.withUnsafeBufferPointer { pointerBuffer in
            query.codes.withUnsafeBufferPointer { queryBuffer in
                table.scales.withUnsafeBufferPointer { scaleBuffer in
                    guard let p = pointerBuffer.baseAddress, let q = queryBuffer.baseAddress,
                          let s = scaleBuffer.baseAddress else { return }
                    switch selection {
                    case .none:
                        return
                    case .all:
                        // Dot products a batch of rows at a time (the 256-bit kernel), then the same
                        // `dot · scale` scores as the per-row loop below.
                        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.scanBatch) { dots in
                            guard let out = dots.baseAddress else { return }
                            // C sees the pointer table as `const int8_t *const *` (nullable elements, same layout).
                            let table = UnsafeRawPointer(p).assumingMemoryBound(to: UnsafePointer<Int8>?.self)
                            var start = rows.lowerBound
                            while start < rows.upperBound {
                                let n = min(Self.scanBatch, rows.upperBound - start)
                                agentmemory_int8_dots(table + start, n, q, d, out)
                                for k in 0..<n where s[start + k] > 0 {
                                    top.insert(row: start + k, score: Float(out[k]) * s[start + k])
                                }
                                start += n
                            }
                        }
                    case .rows(let set):
                        set.forEach(wordsFrom: rows.lowerBound >> 6, to: (rows.upperBound + 63) >> 6) { row in
                            if s[row] > 0 {
                                top.insert(row: row, score: Float(Self.dot(p[row], q, d)) * s[row])
                            }
                        }
                    }
                }
            }
        }
        return top
    }

    /// Cosine of row `row` with a unit float query of this dimension: `scale · Σ code_j · query_j`.
    func exactDot(row: Int, query: [Float]) -> Float {
        query.withUnsafeBufferPointer { q in
            guard let qb = q.baseAddress else { return 0 }
            return agentmemory_int8_float_dot(table.pointers[row], qb, dimension) * table.scales[row]
        }
    }

    /// Dot product of row `row` with row `otherRow` of `other` (0 when the dimensions differ), e.g. the
    /// similarity of two memories: `s · s' · Σ c·c'` (exact on the codes).
    func exactDot(row: Int, with other: QuantizedVectors, row otherRow: Int) -> Float {
        guard other.dimension == dimension else { return 0 }
        let a = table.pointers[row], b = other.table.pointers[otherRow]
        var sum: Int32 = 0
        for j in 0..<dimension { sum &+= Int32(a[j]) &* Int32(b[j]) }
        return Float(sum) * table.scales[row] * other.table.scales[otherRow]
    }

    /// Σ c·q over `d` components, for the filtered scan (one row at a time; the unfiltered scan calls the
    /// 256-bit kernel `agentmemory_int8_dots`, which returns the same exact sums). Written as a plain loop on
    /// purpose: LLVM's loop vectoriser turns this widening multiply-accumulate into `vpmovsxbw` + `vpmaddwd`
    /// (128-bit only), which a hand-written `SIMD16` form did not get.
    @inline(__always)
    static func dot(_ row: UnsafePointer<Int8>, _ q: UnsafePointer<Int16>, _ d: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<d {
            sum &+= Int32(row[i]) &* Int32(q[i])
        }
        return sum
    }
}

/// A query vector prepared for the scan: unit-normalised float copy plus its int8 codes (``Int8Quantizer``)
/// widened to `Int16`.
struct QuantizedQuery: Sendable {
    let unit: [Float]
    let codes: [Int16]
    /// max|unit| / 127: `code · scale ≈ component`.
    let scale: Float

    /// `nil` when the vector is empty, not finite or all zero.
    init?(_ vector: [Float]) {
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        guard norm.isFinite, norm > 0 else { return nil }
        let unit = vector.map { $0 / norm }
        let (codes, scale) = Int8Quantizer.quantize(unit)
        guard scale > 0 else { return nil }
        self.unit = unit
        self.codes = codes.map { Int16($0) }
        self.scale = scale
    }
}

/// The parts of a parallel scan hand their candidates in here. `@unchecked Sendable`: `lock` guards `rows`,
/// the only mutable state.
private final class ScanPartResults: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [ScoredRow] = []

    func add(_ part: [ScoredRow]) {
        lock.lock()
        rows.append(contentsOf: part)
        lock.unlock()
    }

    func all() -> [ScoredRow] {
        lock.lock()
        defer { lock.unlock() }
        return rows
    }
}

struct ScoredRow: Sendable {
    var row: Int
    var score: Float
}

/// The best `capacity` rows seen so far: a binary min-heap on score (ties: lower row wins, so results are
/// deterministic).
struct TopCandidates {
    private var heap: [ScoredRow] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        heap.reserveCapacity(self.capacity)
    }

    @inline(__always)
    private static func worse(_ a: ScoredRow, _ b: ScoredRow) -> Bool {
        a.score < b.score || (a.score == b.score && a.row > b.row)
    }

    @inline(__always)
    mutating func insert(row: Int, score: Float) {
        let item = ScoredRow(row: row, score: score)
        if heap.count < capacity {
            heap.append(item)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.worse(heap[i], heap[parent]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
        } else if capacity > 0, Self.worse(heap[0], item) {
            heap[0] = item
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count, Self.worse(heap[l], heap[smallest]) { smallest = l }
                if r < heap.count, Self.worse(heap[r], heap[smallest]) { smallest = r }
                guard smallest != i else { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
    }

    /// The rows kept, in no particular order (which rows are kept does not depend on the insertion order).
    var unordered: [ScoredRow] { heap }

    func sortedDescending() -> [ScoredRow] {
        heap.sorted { Self.worse($1, $0) }
    }
}
