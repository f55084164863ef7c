import Foundation

/// The corpus-wide figures BM25 weighs terms with: the number of documents N, their total length (so
/// avgdl = total / N), and the document frequency df of the query's terms.
///
/// An index over a whole partition uses its own figures; an index split into parts (a base and a tail, see
/// ``PartitionSearchIndex``) scores every part with the figures of the whole, so its scores equal one index's.
struct BM25Corpus: Sendable {
    let documentCount: Int
    let totalLength: UInt64
    /// df of each query term (terms no document contains may be absent: df 0).
    let documentFrequencies: [String: Int]

    /// avgdl, at least 1.
    var averageLength: Double {
        documentCount > 0 ? max(Double(totalLength) / Double(documentCount), 1) : 1
    }

    func idf(_ term: String) -> Double {
        Self.idf(documentFrequency: documentFrequencies[term] ?? 0, documentCount: documentCount)
    }

    /// Lucene's always-positive form: ln(1 + (N − df + 0.5) / (df + 0.5)).
    static func idf(documentFrequency df: Int, documentCount n: Int) -> Double {
        log(1 + (Double(n) - Double(df) + 0.5) / (Double(df) + 0.5))
    }
}
