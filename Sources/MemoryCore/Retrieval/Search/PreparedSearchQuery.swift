import Foundation

/// The parts of a search that depend on the query alone — the query vector normalised and quantised, the
/// query's BM25 terms, the period and the subjects it names — worked out once. A search fanned out over many
/// partitions hands one to each partition's ``PartitionSearchIndex/search(_:prepared:)`` instead of redoing
/// them per partition; the results are the same as ``PartitionSearchIndex/search(_:)``'s.
public struct PreparedSearchQuery: Sendable {
    /// The quantised query vector (`nil`: no vector, or one that is empty, not finite or all zero).
    let vector: QuantizedQuery?
    /// The length of the query vector: a partition of another dimension searches as if there were none.
    let vectorLength: Int
    /// The query's BM25 terms (none for a vector-only search).
    let terms: [String]
    /// The period the query names, worked out only when a hybrid search weighs it.
    let period: QueryTimeReference
    /// The subjects the query names, worked out only when a hybrid search weighs them.
    let subjects: QuerySubjects

    public init(_ query: SearchQuery) {
        vector = query.vector.flatMap { QuantizedQuery($0) }
        vectorLength = query.vector?.count ?? 0
        terms = query.mode == .vector ? [] : TextTokenizer.terms(query.text)
        // A partition searches hybrid only when it can use the vector (see `vector(dimension:)`); when it
        // cannot, it ignores these two.
        let hybrid = query.mode == .hybrid && vector != nil
        period = query.ranking.timeWeight > 0 && hybrid ? QueryTimeReference(query.text) : QueryTimeReference("")
        subjects = query.ranking.subjectWeight > 0 && hybrid ? QuerySubjects(query.text) : QuerySubjects("")
    }

    /// The quantised query vector for a partition of `dimension`-d embeddings (`nil` when the lengths differ).
    func vector(dimension: Int) -> QuantizedQuery? {
        vectorLength == dimension ? vector : nil
    }
}
