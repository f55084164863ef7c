import Testing
import TestSupport
@testable import MemoryStorage

/// ``BytewiseOrder`` against the byte-at-a-time order it replaces, on random strings where byte order and
/// `String` order differ (non-ASCII letters, combining marks, prefixes of each other).
@Suite struct BytewiseOrderTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func agreesWithUTF8LexicographicOrder(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let pieces = ["", "a", "b", "A", "_", "-", "/", "é", "e\u{301}", "ß", "日", "🙂", "\u{0}"]
        func random() -> String { (0..<Int.random(in: 0..<5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
        for _ in 0..<3_000 {
            let a = random(), b = Bool.random(using: &rng) ? random() : a + random()
            let expected = a.utf8.lexicographicallyPrecedes(b.utf8)
            #expect(BytewiseOrder.precedes(a, b) == expected, "\(a.debugDescription) vs \(b.debugDescription)")
            let sign = BytewiseOrder.compare(a, b).signum()
            #expect(sign == (expected ? -1 : (Array(a.utf8) == Array(b.utf8) ? 0 : 1)),
                    "\(a.debugDescription) vs \(b.debugDescription)")
        }
    }
}
