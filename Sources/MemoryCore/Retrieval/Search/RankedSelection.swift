/// The best `limit` of `count` items in a search's ranking order — score descending, ties to the lower state
/// position (a total order, positions being distinct) — best first, as item indices.
///
/// A search ranks a few hundred candidates and keeps `top_k` of them: rather than sorting them all (a stable
/// sort of the whole candidate list measured ~5 % of a hybrid search), one pass keeps the best so far
/// (``BestSoFar``). When most items are kept it sorts instead.
/// Either way the result is exactly the first `limit` of the fully sorted list.
enum RankedSelection {
    private struct Key {
        let score: Double
        let position: Int
        let index: Int

        @inline(__always)
        func ranksBefore(_ other: Key) -> Bool {
            score > other.score || (score == other.score && position < other.position)
        }
    }

    /// Indices of the best `limit` items of `0..<count`, best first; `key(i)` is item `i`'s score and position.
    static func best(count: Int, limit: Int, _ key: (Int) -> (score: Double, position: Int)) -> [Int] {
        guard limit > 0, count > 0 else { return [] }
        if 4 * limit >= count {
            var keys: [Key] = []
            keys.reserveCapacity(count)
            for i in 0..<count {
                let (score, position) = key(i)
                keys.append(Key(score: score, position: position, index: i))
            }
            keys.sort { $0.ranksBefore($1) }
            return keys.prefix(limit).map(\.index)
        }
        var top = BestSoFar<Key>(limit: limit)
        for i in 0..<count {
            let (score, position) = key(i)
            top.offer(Key(score: score, position: position, index: i)) { $0.ranksBefore($1) }
        }
        return top.elements.map(\.index)
    }
}
