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
        for (row, v) in vectors.enumerated() where v.count == dimension && dimension > 0 {
            let maxAbs = v.reduce(Float(0)) { max($0, abs($1)) }
            guard maxAbs > 0, v.allSatisfy({ $0.isFinite }) else { continue }
            has[row] = true
            scales[row] = maxAbs / 127
            let inv = 127 / maxAbs
            let base = row * dimension
            for i in 0..<dimension {
                codes[base + i] = UInt8(Int(Float(v[i] * inv).rounded()).clamped(-127, 127) + 128)
                floats[base + i] = v[i]
            }
        }
        self.codes = codes
        self.floats = floats
        self.scales = scales
        self.hasVector = has
    }

    /// Bytes one full scan reads (codes and scales).
    var scanBytes: Int { codes.count + scales.count * 4 }

    /// The `limit` rows with the highest approximate similarity to `query` among `selection`.
    func approximateTop(_ query: QuantizedQuery, limit: Int, selection: RowSelection) -> [ScoredRow] {
        var top = TopCandidates(capacity: limit)
        guard limit > 0, count > 0 else { return [] }
        let d = dimension
        let correction = 128 &* query.sum
        codes.withUnsafeBufferPointer { codeBuffer in
            query.codes.withUnsafeBufferPointer { queryBuffer in
                scales.withUnsafeBufferPointer { scaleBuffer in
                    guard let codeBase = codeBuffer.baseAddress, let q = queryBuffer.baseAddress,
                          let s = scaleBuffer.baseAddress else { return }
                    let score = { (row: Int) -> Float in
                        Float(Self.dot(codeBase + row * d, q, d) &- correction) * s[row]
                    }
                    switch selection {
                    case .none:
                        return
                    case .all:
                        for row in 0..<count where s[row] > 0 { top.insert(row: row, score: score(row)) }
                    case .rows(let set):
                        set.forEach { row in
                            if s[row] > 0 { top.insert(row: row, score: score(row)) }
                        }
                    }
                }
            }
        }
        return top.sortedDescending()
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

    /// Σ u·q over `d` components, 16 lanes at a time (UInt8 → Int16 zero-extend, multiply, widen to Int32).
    @inline(__always)
    static func dot(_ row: UnsafePointer<UInt8>, _ q: UnsafePointer<Int16>, _ d: Int) -> Int32 {
        var acc = SIMD16<Int32>()
        var i = 0
        let rr = UnsafeRawPointer(row), qr = UnsafeRawPointer(q)
        while i + 16 <= d {
            let r = rr.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let qq = qr.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Int16>.self)
            let w = SIMD16<Int16>(truncatingIfNeeded: SIMD16<UInt16>(truncatingIfNeeded: r))
            acc &+= SIMD16<Int32>(truncatingIfNeeded: w &* qq)
            i += 16
        }
        var sum = acc.wrappedSum()
        while i < d {
            sum &+= Int32(row[i]) &* Int32(q[i])
            i += 1
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
