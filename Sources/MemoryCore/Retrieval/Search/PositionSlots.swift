/// Numbers the state positions one search looks at (its candidates and their conversational neighbours)
/// 0, 1, 2, … in the order first seen, so their signals live in a plain array.
///
/// An open-addressing hash table on `Int` keys (linear probing, multiplicative hash): a hybrid search looks
/// positions up a few times per candidate and per neighbour, and `Dictionary<Int, _>` (SipHash, resizing)
/// measured several per cent of the search there.
struct PositionSlots {
    /// Position per table entry; -1 marks an empty entry (positions are never negative).
    private var keys: [Int]
    private var slots: [Int32]
    private var shift: UInt64
    /// How many positions have a slot (the next slot number).
    private(set) var count = 0

    /// A table for about `expected` positions (it grows when more arrive).
    init(expected: Int) {
        var bits: UInt64 = 4
        while (1 << bits) < 2 * max(1, expected) { bits += 1 }
        keys = [Int](repeating: -1, count: 1 << Int(bits))
        slots = [Int32](repeating: 0, count: 1 << Int(bits))
        shift = 64 - bits
    }

    @inline(__always)
    private func home(_ position: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot of `position`, `nil` when it has none.
    func slot(of position: Int) -> Int? {
        let mask = keys.count - 1
        var i = home(position)
        while true {
            let key = keys[i]
            if key == position { return Int(slots[i]) }
            if key < 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Gives `position` the next slot number (``count``) unless it has one; true when it was new.
    @discardableResult
    mutating func insert(_ position: Int) -> Bool {
        if 2 * (count + 1) > keys.count { grow() }
        let mask = keys.count - 1
        var i = home(position)
        while true {
            let key = keys[i]
            if key == position { return false }
            if key < 0 {
                keys[i] = position
                slots[i] = Int32(count)
                count += 1
                return true
            }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldSlots = slots
        keys = [Int](repeating: -1, count: 2 * oldKeys.count)
        slots = [Int32](repeating: 0, count: 2 * oldKeys.count)
        shift -= 1
        let mask = keys.count - 1
        for j in oldKeys.indices where oldKeys[j] >= 0 {
            var i = home(oldKeys[j])
            while keys[i] >= 0 { i = (i + 1) & mask }
            keys[i] = oldKeys[j]
            slots[i] = oldSlots[j]
        }
    }
}
