import Foundation
import Testing
import TestSupport
@testable import MemoryStorage

@Suite("Memory positions table")
struct MemoryPositionsTests {
    @Test("random sets, overwrites and removals answer as a Dictionary does", arguments: [1, 2, 3])
    func matchesDictionary(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        // Sequential ids (as time-ordered ids are) and random ones.
        let ids = (0..<3_000).map { i in
            i % 2 == 0 ? UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))! : UUID()
        }
        var table = MemoryPositions()
        var expected: [UUID: Int] = [:]
        for step in 0..<20_000 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            switch rng.next() % 3 {
            case 0:
                #expect(table.removeValue(forKey: id) == expected.removeValue(forKey: id), "step \(step)")
            default:
                let position = Int(rng.next() % 1_000_000)
                table[id] = position
                expected[id] = position
            }
            #expect(table.count == expected.count)
        }
        for id in ids { #expect(table[id] == expected[id]) }
    }
}
