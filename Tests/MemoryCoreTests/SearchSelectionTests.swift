import Testing
import TestSupport
@testable import MemoryCore

/// The small structures a search ranks with: the top-k selection must equal a full sort's prefix, the position
/// table a dictionary, and the bitmap assignment the per-row subscript.
@Suite("Search selection structures")
struct SearchSelectionTests {
    @Test("RankedSelection.best is the first `limit` of the fully sorted list, ties to the lower position")
    func rankedSelection() {
        var rng = SeededGenerator(seed: 5)
        for count in [0, 1, 7, 40, 160, 1000] {
            // Few distinct scores, so ties are common; positions distinct and shuffled.
            let scores = (0..<count).map { _ in Double(Int.random(in: 0..<12, using: &rng)) / 11 }
            let positions = Array(0..<count).map { $0 * 3 + 1 }.shuffled(using: &rng)
            let sorted = (0..<count).sorted {
                scores[$0] > scores[$1] || (scores[$0] == scores[$1] && positions[$0] < positions[$1])
            }
            for limit in [0, 1, 3, 10, 20, count / 2, count, count + 5] {
                let best = RankedSelection.best(count: count, limit: limit) { (scores[$0], positions[$0]) }
                #expect(best == Array(sorted.prefix(max(0, limit))), "count \(count), limit \(limit)")
            }
        }
    }

    @Test("PositionSlots numbers positions in first-seen order, like a dictionary, across growth")
    func positionSlots() {
        var rng = SeededGenerator(seed: 9)
        var slots = PositionSlots(expected: 4)
        var reference: [Int: Int] = [:]
        for _ in 0..<5000 {
            let position = Int.random(in: 0..<3000, using: &rng) * 7
            let inserted = slots.insert(position)
            #expect(inserted == (reference[position] == nil))
            if inserted { reference[position] = reference.count }
        }
        #expect(slots.count == reference.count)
        for position in stride(from: 0, to: 21000, by: 1) {
            #expect(slots.slot(of: position) == reference[position])
        }
    }

    @Test("RowSet.assign sets each listed row to its value's answer and leaves the others")
    func rowSetAssign() {
        var rng = SeededGenerator(seed: 2)
        for filled in [false, true] {
            let count = 1000
            let rows = Array(0..<count).shuffled(using: &rng).prefix(600).map(Int32.init)
            let ids = rows.map { _ in Int32.random(in: 0..<5, using: &rng) }
            let answers = [true, false, true, false, false]
            var viaSubscript = RowSet(count: count, filled: filled)
            for i in rows.indices { viaSubscript[Int(rows[i])] = answers[Int(ids[i])] }
            var viaAssign = RowSet(count: count, filled: filled)
            viaAssign.assign(rows: Array(rows), valueIds: ids, answers: answers)
            #expect(viaAssign == viaSubscript)
        }
    }
}
