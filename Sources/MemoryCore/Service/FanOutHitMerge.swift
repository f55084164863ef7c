import Foundation

/// Merges the hits of a search fanned out over many partitions into the best `topK`.
///
/// The order is exactly that of one stable sort of all the partitions' hits, concatenated in partition order, by
/// score (highest first), then memory id (ascending as `uuidString`, the order answers have always used), then
/// place in the concatenation. But it keeps only the `topK` best as it goes (``BestSoFar``), as (score,
/// partition, place) references: no hit is copied or moved except the `topK` returned, and an id is compared
/// only on a score tie.
enum FanOutHitMerge {
    /// The best `topK` of `lists` (each one partition's hits), best first.
    static func best(_ topK: Int, of lists: [[SearchHit]]) -> [SearchHit] {
        guard topK > 0 else { return [] }
        func precedes(_ a: HitReference, _ b: HitReference) -> Bool {
            if a.score != b.score { return a.score > b.score }
            let idA = lists[a.list][a.place].memory.id
            let idB = lists[b.list][b.place].memory.id
            if idA != idB { return idPrecedes(idA, idB) }
            return (a.list, a.place) < (b.list, b.place)
        }
        var best = BestSoFar<HitReference>(limit: topK)
        for (list, hits) in lists.enumerated() {
            for (place, hit) in hits.enumerated() {
                best.offer(HitReference(score: hit.score, list: list, place: place), by: precedes)
            }
        }
        return best.elements.map { lists[$0.list][$0.place] }
    }

    /// Whether `a` comes before `b` in `uuidString` order, without making the strings: the string spells the 16
    /// bytes in order as upper-case hex digits (which sort as the byte values do), with dashes at fixed places.
    static func idPrecedes(_ a: UUID, _ b: UUID) -> Bool {
        withUnsafeBytes(of: a.uuid) { pa in withUnsafeBytes(of: b.uuid) { pb in pa.lexicographicallyPrecedes(pb) } }
    }
}

/// One hit of a fan-out, by place: its score, its partition's index and its place in that partition's hits.
private struct HitReference {
    let score: Double
    let list: Int
    let place: Int
}
