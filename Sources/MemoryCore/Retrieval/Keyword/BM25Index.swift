import Foundation
import MemoryStorage

/// BM25 (k1 = 1.2, b = 0.75 unless the caller passes another) over memory texts, with postings laid out as flat arrays (stored in a snapshot
/// by ``BM25SnapshotSection``, byte layout in `docs/retrieval.md`, "BM25 section").
///
/// Documents are addressed by their position (`row`) in the list the index was built from; ``documentIds``
/// maps rows back to memory ids.
public struct BM25Index: Sendable, Equatable {
    public static let k1 = 1.2
    /// The default length normalisation (the classic value; search passes ``RankingOptions/lengthNormalization``).
    public static let b = 0.75

    /// Memory id of each row.
    public let documentIds: [UUID]
    /// Number of terms in each row's text.
    let documentLengths: [UInt32]
    let totalLength: UInt64
    /// Terms in ascending UTF-8 byte order; a term's postings are `postingStarts[t]..<postingStarts[t+1]`.
    /// Looked up by binary search (``termPosition(_:)``) rather than through a `[String: Int]` table: a
    /// partition's vocabulary is large (ids, numbers, names), and the table cost ~64 bytes per term for a
    /// handful of lookups per query.
    let terms: [String]
    let postingStarts: [UInt32]
    let postingRows: [UInt32]
    /// Each posting's term frequency, one byte: ``largeFrequency`` (rare: a term 255 times or more in one
    /// memory) marks one held in ``largeFrequencies`` by posting index. Most frequencies are 1, and four bytes
    /// each were a tenth of a resident partition's search index.
    let postingFrequencies: [UInt8]
    let largeFrequencies: [Int: UInt32]
    static let largeFrequency: UInt8 = .max

    /// Indexes `documents` (id and text per row).
    public init(documents: [(id: UUID, text: String)]) {
        var lengths: [UInt32] = []
        lengths.reserveCapacity(documents.count)
        var ids: [String: Int] = [:]
        var vocabulary: [String] = []
        var postings: [[(row: UInt32, tf: UInt32)]] = []
        var total: UInt64 = 0
        for (row, doc) in documents.enumerated() {
            let terms = TextTokenizer.terms(doc.text)
            lengths.append(UInt32(clamping: terms.count))
            total += UInt64(terms.count)
            var termIds: [Int] = []
            termIds.reserveCapacity(terms.count)
            for t in terms {
                if let id = ids[t] {
                    termIds.append(id)
                } else {
                    ids[t] = vocabulary.count
                    termIds.append(vocabulary.count)
                    vocabulary.append(t)
                    postings.append([])
                }
            }
            termIds.sort()
            var i = 0
            while i < termIds.count {
                var j = i + 1
                while j < termIds.count, termIds[j] == termIds[i] { j += 1 }
                postings[termIds[i]].append((UInt32(row), UInt32(j - i)))
                i = j
            }
        }
        let order = vocabulary.indices.sorted { BytewiseOrder.precedes(vocabulary[$0], vocabulary[$1]) }
        var starts: [UInt32] = [0]
        starts.reserveCapacity(order.count + 1)
        var rows: [UInt32] = []
        var freqs: [UInt32] = []
        for id in order {
            for p in postings[id] { rows.append(p.row); freqs.append(p.tf) }
            starts.append(UInt32(rows.count))
        }
        self.init(documentIds: documents.map(\.id), documentLengths: lengths, totalLength: total,
                  terms: order.map { vocabulary[$0] }, postingStarts: starts, postingRows: rows, postingFrequencies: freqs)
    }

    /// From its parts. The terms must be distinct and in ascending UTF-8 byte order.
    init(documentIds: [UUID], documentLengths: [UInt32], totalLength: UInt64, terms: [String],
         postingStarts: [UInt32], postingRows: [UInt32], postingFrequencies: [UInt32]) {
        self.documentIds = documentIds
        self.documentLengths = documentLengths
        self.totalLength = totalLength
        self.terms = terms
        self.postingStarts = postingStarts
        self.postingRows = postingRows
        var large: [Int: UInt32] = [:]
        self.postingFrequencies = postingFrequencies.indices.map { p in
            let tf = postingFrequencies[p]
            guard tf >= UInt32(Self.largeFrequency) else { return UInt8(tf) }
            large[p] = tf
            return Self.largeFrequency
        }
        self.largeFrequencies = large
    }

    public static func == (l: BM25Index, r: BM25Index) -> Bool {
        l.documentIds == r.documentIds && l.documentLengths == r.documentLengths && l.terms == r.terms
            && l.postingStarts == r.postingStarts && l.postingRows == r.postingRows
            && l.postingFrequencies == r.postingFrequencies && l.largeFrequencies == r.largeFrequencies
    }

    public var documentCount: Int { documentIds.count }

    /// The term frequency of posting `p`.
    func frequency(_ p: Int) -> UInt32 {
        frequency(stored: postingFrequencies[p], posting: p)
    }

    /// The term frequency of posting `p` whose stored byte is `stored` (what the scoring loop reads through
    /// its buffer pointer).
    @inline(__always)
    private func frequency(stored: UInt8, posting p: Int) -> UInt32 {
        stored == Self.largeFrequency ? largeFrequencies[p]! : UInt32(stored)
    }

    /// The position of `term` in ``terms`` (binary search by UTF-8 bytes, the order ``terms`` is in); `nil`
    /// when no row contains it. Terms come from ``TextTokenizer`` (NFKC-normalised), so equal terms have
    /// equal bytes.
    func termPosition(_ term: String) -> Int? {
        var lo = 0, hi = terms.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let order = BytewiseOrder.compare(terms[mid], term)
            if order == 0 { return mid }
            if order < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// Inverse document frequency, Lucene's always-positive form: ln(1 + (N − df + 0.5) / (df + 0.5)).
    public func idf(documentFrequency df: Int) -> Double {
        BM25Corpus.idf(documentFrequency: df, documentCount: documentCount)
    }

    /// Number of rows containing `term` (a term after tokenisation).
    func documentFrequency(_ term: String) -> Int {
        guard let t = termPosition(term) else { return 0 }
        return Int(postingStarts[t + 1] - postingStarts[t])
    }

    /// This index's own corpus figures for `distinctTerms`.
    func corpus(distinctTerms: [String]) -> BM25Corpus {
        BM25Corpus(documentCount: documentCount, totalLength: totalLength,
                   documentFrequencies: Dictionary(uniqueKeysWithValues: distinctTerms.map { ($0, documentFrequency($0)) }))
    }

    /// The BM25 scores of a query (already tokenised) over the rows `allowed` accepts.
    public func scores(queryTerms: [String], allowed: (Int) -> Bool) -> BM25Scores {
        let distinct = Array(Set(queryTerms)).sorted()
        guard documentCount > 0, !distinct.isEmpty else { return BM25Scores(rows: [], dense: [], ideal: 0) }
        return scores(distinctTerms: distinct, corpus: corpus(distinctTerms: distinct), allowed: allowed)
    }

    /// The BM25 scores over this index's rows that `allowed` accepts, with terms weighed by `corpus` — this
    /// index's own figures, or those of a larger corpus this index is one part of (so the parts' scores are
    /// the scores one index over the whole corpus would give). `distinctTerms` must be distinct and sorted
    /// (the summation order, so equal inputs give bit-identical scores).
    func scores(distinctTerms: [String], corpus: BM25Corpus, allowed: (Int) -> Bool) -> BM25Scores {
        scores(distinctTerms: distinctTerms, corpus: corpus, everyRowAllowed: false, b: Self.b, allowed: allowed)
    }

    /// ``scores(distinctTerms:corpus:allowed:)`` over the rows `selection` holds; an unfiltered selection skips
    /// the per-posting check altogether.
    func scores(distinctTerms: [String], corpus: BM25Corpus, selection: RowSelection, b: Double = BM25Index.b) -> BM25Scores {
        if case .all = selection {
            return scores(distinctTerms: distinctTerms, corpus: corpus, everyRowAllowed: true, b: b, allowed: { _ in true })
        }
        return scores(distinctTerms: distinctTerms, corpus: corpus, everyRowAllowed: false, b: b, allowed: selection.contains)
    }

    /// The scoring loop: per posting, `w · tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avgdl))` added to the
    /// row's score (terms in the order given, so equal inputs give bit-identical sums).
    private func scores(distinctTerms: [String], corpus: BM25Corpus, everyRowAllowed: Bool, b: Double,
                        allowed: (Int) -> Bool) -> BM25Scores {
        let n = documentCount
        let avgdl = corpus.averageLength
        var ideal = 0.0
        var dense: [Double] = []
        var touched = false
        for term in distinctTerms {
            let w = corpus.idf(term)
            ideal += w
            guard let t = termPosition(term) else { continue }
            let start = Int(postingStarts[t]), end = Int(postingStarts[t + 1])
            if !touched { dense = [Double](repeating: 0, count: n); touched = true }
            dense.withUnsafeMutableBufferPointer { scores in
                postingRows.withUnsafeBufferPointer { rows in
                    postingFrequencies.withUnsafeBufferPointer { frequencies in
                        documentLengths.withUnsafeBufferPointer { lengths in
                            for p in start..<end {
                                let row = Int(rows[p])
                                if !everyRowAllowed && !allowed(row) { continue }
                                let tf = Double(frequency(stored: frequencies[p], posting: p))
                                let norm = Self.k1 * (1 - b + b * Double(lengths[row]) / avgdl)
                                scores[row] += w * tf * (Self.k1 + 1) / (tf + norm)
                            }
                        }
                    }
                }
            }
        }
        let rows = touched ? dense.indices.filter { dense[$0] > 0 } : []
        return BM25Scores(rows: rows, dense: dense, ideal: ideal)
    }

    /// The query terms (distinct, sorted) that row `row` contains — for explanations.
    public func matchedTerms(row: Int, queryTerms: [String]) -> [String] {
        Array(Set(queryTerms)).sorted().filter { term in
            guard let t = termPosition(term) else { return false }
            var lo = Int(postingStarts[t]), hi = Int(postingStarts[t + 1])
            while lo < hi {
                let mid = (lo + hi) / 2
                if Int(postingRows[mid]) < row { lo = mid + 1 } else { hi = mid }
            }
            return lo < Int(postingStarts[t + 1]) && Int(postingRows[lo]) == row
        }
    }
}

/// BM25 scores of one query: the rows with any query term (ascending) and their raw scores, plus the
/// query's ideal score Σ idf(t) over its distinct terms (what an average-length memory containing each term
/// once scores), used to map raw scores into [0, 1].
public struct BM25Scores: Sendable {
    public let rows: [Int]
    let dense: [Double]
    public let ideal: Double

    /// Raw BM25 score of `row` (0 when it matches no query term).
    public func score(_ row: Int) -> Double {
        row < dense.count ? dense[row] : 0
    }

    /// Raw scores of ``rows``, in the same order.
    public var scores: [Double] { rows.map(score) }

    /// A raw score mapped into [0, 1]: min(1, raw / ideal).
    public func normalized(_ raw: Double) -> Double {
        ideal > 0 ? min(1, raw / ideal) : 0
    }
}
