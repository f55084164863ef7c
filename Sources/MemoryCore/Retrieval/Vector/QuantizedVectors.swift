import Foundation

/// A partition's embeddings in two contiguous buffers: int8 codes for the scan and float32 copies for exact
/// rescoring.
///
/// Each row `r` is quantised with its own scale `s_r = max|x| / 127`: `c = round(x / s_r)` in [-127, 127],
/// stored offset by +128 as `UInt8` (so the scan widens with a cheap zero-extension even on baseline
/// x86-64). For a query quantised the same way (`q` as `Int16`), `Σ c·q = Σ u·q − 128·Σ q`, and the
/// approximate similarity is `s_r · Σ c·q` (the query's own scale is common to all rows and dropped).
struct QuantizedVectors: Sendable {
    let dimension: Int
    let count: Int
    /// `count × dimension` codes (`code + 128`).
    let codes: [UInt8]
    /// Per-row scale; 0 for rows without a usable vector (wrong dimension), which then never rank.
    let scales: [Float]
    /// `count × dimension` float32 components for rescoring.
    let floats: [Float]
    /// Rows whose embedding has the index's dimension.
    let hasVector: [Bool]

    init(vectors: [[Float]], dimension: Int) {
        self.dimension = dimension
        self.count = vectors.count
        var codes = [UInt8](repeating: 128, count: vectors.count * dimension)
        var floats = [Float](repeating: 0, count: vectors.count * dimension)
        var scales = [Float](repeating: 0, count: vectors.count)
        var has = [Bool](repeating: false, count: vectors.count)
        codes.withUnsafeMutableBufferPointer { codeBuffer in
            floats.withUnsafeMutableBufferPointer { floatBuffer in
                for (row, v) in vectors.enumerated() where v.count == dimension && dimension > 0 {
                    var maxAbs: Float = 0
                    var finite = true
                    for x in v {
                        finite = finite && x.isFinite
                        maxAbs = Swift.max(maxAbs, abs(x))
                    }
                    guard finite, maxAbs > 0 else { continue }
                    has[row] = true
                    scales[row] = maxAbs / 127
                    let inv = 127 / maxAbs
                    let base = row * dimension
                    for i in 0..<dimension {
                        // |x · inv| ≤ 127, so the rounded value is in range.
                        codeBuffer[base + i] = UInt8(truncatingIfNeeded: Int32((v[i] * inv).rounded()) &+ 128)
                        floatBuffer[base + i] = v[i]
                    }
                }
            }
        }
        self.codes = codes
        self.floats = floats
        self.scales = scales
        self.hasVector = has
    }

    /// Bytes one full scan reads (codes and scales).
    var scanBytes: Int { codes.count + scales.count * 4 }

    /// Scans at least this many code bytes before splitting a scan across cores. Below about 1 MiB the cost
    /// of waking the other cores (tens of microseconds) eats the gain; above it, on this 2-core machine, the
    /// split measured 1.6× faster (10k × 384: 0.36 → 0.22 ms p50).
    static let parallelScanBytes = 1 << 20

    /// Cores to split a scan over, read once: `activeProcessorCount` reads the cgroup files on every call.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// The `limit` rows with the highest approximate similarity to `query` among `selection`.
    ///
    /// Large scans are split into contiguous row ranges, one per core, each keeping its own best `limit`,
    /// then merged (the union of the parts' best contains the overall best).
    func approximateTop(_ query: QuantizedQuery, limit: Int, selection: RowSelection,
                        parallelThreshold: Int = parallelScanBytes) -> [ScoredRow] {
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
            return scan(query, limit: limit, selection: selection, rows: 0..<count).sortedDescending()
        }
        // Part boundaries on multiples of 64 so each part owns whole bitmap words.
        let chunk = ((count + parts - 1) / parts + 63) / 64 * 64
        let collected = ScanPartResults()
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = min(count, p * chunk), hi = min(count, (p + 1) * chunk)
            collected.add(scan(query, limit: limit, selection: selection, rows: lo..<hi).sortedDescending())
        }
        var merged = TopCandidates(capacity: limit)
        for c in collected.all() { merged.insert(row: c.row, score: c.score) }
        return merged.sortedDescending()
    }

    /// Scans the selected rows of `rows` (whose bounds are multiples of 64, or `count`).
    private func scan(_ query: QuantizedQuery, limit: Int, selection: RowSelection, rows: Range<Int>) -> TopCandidates {
        var top = TopCandidates(capacity: limit)
        let d = dimension
        let correction = 128 &* query.sum
        codes.withUnsafeBufferPointer { codeBuffer in
            query.codes.withUnsafeBufferPointer { queryBuffer in
                scales.withUnsafeBufferPointer { scaleBuffer in
                    guard let codeBase = codeBuffer.baseAddress, let q = queryBuffer.baseAddress,
                          let s = scaleBuffer.baseAddress else { return }
                    switch selection {
                    case .none:
                        return
                    case .all:
                        for row in rows where s[row] > 0 {
                            top.insert(row: row, score: Float(Self.dot(codeBase + row * d, q, d) &- correction) * s[row])
                        }
                    case .rows(let set):
                        set.forEach(wordsFrom: rows.lowerBound >> 6, to: (rows.upperBound + 63) >> 6) { row in
                            if s[row] > 0 {
                                top.insert(row: row, score: Float(Self.dot(codeBase + row * d, q, d) &- correction) * s[row])
                            }
                        }
                    }
                }
            }
        }
        return top
    }

    /// Exact dot product of row `row` with a float query of this dimension.
    func exactDot(row: Int, query: [Float]) -> Float {
        floats.withUnsafeBufferPointer { f in
            query.withUnsafeBufferPointer { q in
                guard let fb = f.baseAddress, let qb = q.baseAddress else { return 0 }
                return Self.floatDot(fb + row * dimension, qb, dimension)
            }
        }
    }

    /// Exact dot product of row `row` with row `otherRow` of `other` (0 when the dimensions differ), e.g. the
    /// similarity of two memories.
    func exactDot(row: Int, with other: QuantizedVectors, row otherRow: Int) -> Float {
        guard other.dimension == dimension else { return 0 }
        return other.floats.withUnsafeBufferPointer { o in
            guard let ob = o.baseAddress else { return 0 }
            return floats.withUnsafeBufferPointer { f in
                guard let fb = f.baseAddress else { return 0 }
                return Self.floatDot(fb + row * dimension, ob + otherRow * dimension, dimension)
            }
        }
    }

    /// Σ u·q over `d` components. Written as a plain loop on purpose: LLVM's loop vectoriser turns this
    /// widening multiply-accumulate into `vpmaddwd` (16-bit pairs multiplied and summed into 32-bit lanes),
    /// which the hand-written `SIMD16` form did not get (measured 1.4× faster at 384-d on AVX2).
    @inline(__always)
    static func dot(_ row: UnsafePointer<UInt8>, _ q: UnsafePointer<Int16>, _ d: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<d {
            sum &+= Int32(row[i]) &* Int32(q[i])
        }
        return sum
    }

    @inline(__always)
    static func floatDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
        while i + 16 <= d {
            acc += ar.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * br.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var sum = acc.sum()
        while i < d {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}

/// A query vector prepared for the scan: unit-normalised float copy plus int8 codes widened to `Int16`.
struct QuantizedQuery: Sendable {
    let unit: [Float]
    let codes: [Int16]
    /// Σ codes (for the +128 offset correction).
    let sum: Int32
    /// max|unit| / 127: `code · scale ≈ component`.
    let scale: Float

    /// `nil` when the vector is empty, not finite or all zero.
    init?(_ vector: [Float]) {
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        guard norm.isFinite, norm > 0 else { return nil }
        let unit = vector.map { $0 / norm }
        let maxAbs = unit.reduce(Float(0)) { max($0, abs($1)) }
        let inv = 127 / maxAbs
        let codes = unit.map { Int16(Int(Float($0 * inv).rounded()).clamped(-127, 127)) }
        self.unit = unit
        self.codes = codes
        self.sum = codes.reduce(Int32(0)) { $0 &+ Int32($1) }
        self.scale = maxAbs / 127
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

    func sortedDescending() -> [ScoredRow] {
        heap.sorted { Self.worse($1, $0) }
    }
}

extension Int {
    @inline(__always)
    func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}
