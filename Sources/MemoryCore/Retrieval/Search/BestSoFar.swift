/// The best `limit` of a stream of elements under a strict total order, kept sorted (best first) as they arrive.
///
/// Why: a search keeps `top_k` of a few hundred candidates, and a fan-out keeps `top_k` of every partition's
/// hits; sorting everything to take the front measured several percent of a search. Most elements leave after
/// one comparison with the worst kept; the others are placed by binary search. The result is exactly the first
/// `limit` of the fully sorted stream. Used by ``RankedSelection`` and ``FanOutHitMerge``.
struct BestSoFar<Element> {
    /// At most `limit` elements, best first.
    private(set) var elements: [Element] = []
    private let limit: Int

    /// Keeps the best `limit` (≥ 0) elements offered.
    init(limit: Int) {
        self.limit = max(0, limit)
        elements.reserveCapacity(self.limit + 1)
    }

    /// Offers `candidate`: kept if fewer than `limit` are kept or it ranks before the worst kept.
    /// `precedes(a, b)`: `a` ranks before `b`, a strict total order (so equal-ranking elements never occur and the
    /// result does not depend on arrival order). Passed per call, not stored, so that it is inlined: a stored
    /// closure measured a slower fan-out merge.
    @inline(__always)
    mutating func offer(_ candidate: Element, by precedes: (Element, Element) -> Bool) {
        guard limit > 0 else { return }
        if elements.count == limit {
            guard precedes(candidate, elements[limit - 1]) else { return }
            elements.removeLast()
        }
        var low = 0
        var high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(elements[middle], candidate) { low = middle + 1 } else { high = middle }
        }
        elements.insert(candidate, at: low)
    }
}
