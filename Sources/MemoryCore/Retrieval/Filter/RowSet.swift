/// A set of row numbers in `0..<count`, as a bitmap: what a filter selects in a partition index.
struct RowSet: Sendable, Equatable {
    private(set) var words: [UInt64]
    let count: Int

    init(count: Int, filled: Bool) {
        self.count = count
        let wordCount = (count + 63) / 64
        self.words = [UInt64](repeating: filled ? ~0 : 0, count: wordCount)
        if filled { clearTail() }
    }

    subscript(row: Int) -> Bool {
        get { words[row >> 6] & (1 << UInt64(row & 63)) != 0 }
        set {
            if newValue { words[row >> 6] |= 1 << UInt64(row & 63) } else { words[row >> 6] &= ~(1 << UInt64(row & 63)) }
        }
    }

    /// Sets row `rows[i]` to `answers[valueIds[i]]` for every `i` (rows in `0..<count`): an interned filter
    /// column's answer per row, in one pass over the words (the per-row subscript measured several per cent of
    /// a filtered search).
    mutating func assign(rows: [Int32], valueIds: [Int32], answers: [Bool]) {
        precondition(rows.count == valueIds.count)
        words.withUnsafeMutableBufferPointer { w in
            rows.withUnsafeBufferPointer { r in
                valueIds.withUnsafeBufferPointer { v in
                    for i in 0..<r.count {
                        let row = Int(r[i])
                        precondition(row >= 0 && row < count)
                        let bit: UInt64 = 1 << UInt64(row & 63)
                        let word = w[row >> 6] & ~bit
                        w[row >> 6] = answers[Int(v[i])] ? word | bit : word
                    }
                }
            }
        }
    }

    var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    mutating func formIntersection(_ other: RowSet) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    mutating func formUnion(_ other: RowSet) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    mutating func invert() {
        for i in words.indices { words[i] = ~words[i] }
        clearTail()
    }

    private mutating func clearTail() {
        let extra = words.count * 64 - count
        if extra > 0, !words.isEmpty { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    /// Calls `body` with each member in increasing order.
    func forEach(_ body: (Int) -> Void) {
        forEach(wordsFrom: 0, to: words.count, body)
    }

    /// Calls `body` with each member in bitmap words `from..<to` (rows `64·from ..< 64·to`), in order.
    func forEach(wordsFrom from: Int, to: Int, _ body: (Int) -> Void) {
        for w in max(0, from)..<min(words.count, to) {
            var bits = words[w]
            while bits != 0 {
                body(w << 6 | bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
    }
}

/// What a filter selects: everything, nothing, or a bitmap. The constant cases keep the common filters
/// (the partition's own user id) free.
enum RowSelection: Sendable {
    case all
    case none
    case rows(RowSet)

    func contains(_ row: Int) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .rows(let set): return set[row]
        }
    }

    func intersection(_ other: RowSelection) -> RowSelection {
        switch (self, other) {
        case (.none, _), (_, .none): return .none
        case (.all, let x), (let x, .all): return x
        case (.rows(var a), .rows(let b)): a.formIntersection(b); return .rows(a)
        }
    }

    func union(_ other: RowSelection) -> RowSelection {
        switch (self, other) {
        case (.all, _), (_, .all): return .all
        case (.none, let x), (let x, .none): return x
        case (.rows(var a), .rows(let b)): a.formUnion(b); return .rows(a)
        }
    }

    func inverted() -> RowSelection {
        switch self {
        case .all: return .none
        case .none: return .all
        case .rows(var a): a.invert(); return .rows(a)
        }
    }
}
