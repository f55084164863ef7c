import Foundation
import Testing
import TestSupport
@testable import MemoryCore

@Suite("BM25 snapshot section")
struct BM25SnapshotSectionTests {
    static let words = ["invoice", "invoices", "weekly", "Café", "café", "東京に住む", "naïve", "ﬁle", "ＡＢＣ", "don't",
                        "Ωmega", "straße", "x", "über", "the", "and", "🙂", "résumé", "tea", "running", "ran"]

    /// A random corpus of `count` texts (some empty), ids in order.
    static func corpus(count: Int, seed: UInt64) -> [(id: UUID, text: String)] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            let n = Int.random(in: 0...12, using: &rng)
            let text = (0..<n).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
            return (UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))!, text)
        }
    }

    @Test("random corpora read back identical and score identically", arguments: [1, 2, 3, 4])
    func roundTrip(seed: UInt64) throws {
        let docs = Self.corpus(count: Int(seed) * 150, seed: seed)
        let index = BM25Index(documents: docs)
        let bytes = BM25SnapshotSection.encode(index)
        let back = try BM25SnapshotSection.decode(bytes, documentIds: docs.map(\.id))
        #expect(back == index)
        #expect(back.totalLength == index.totalLength)
        for query in ["invoice café", "東京 tea", "ＡＢＣ file naive", "running"] {
            let q = TextTokenizer.terms(query)
            #expect(back.scores(queryTerms: q, allowed: { _ in true }).scores == index.scores(queryTerms: q, allowed: { _ in true }).scores)
        }
        // Compact: well under the 8 bytes per posting + 20 per document of a fixed-width layout.
        #expect(bytes.count < index.postingRows.count * 3 + docs.count * 2 + index.terms.count * 16 + 64)
    }

    @Test("an empty corpus round-trips")
    func empty() throws {
        let index = BM25Index(documents: [])
        #expect(try BM25SnapshotSection.decode(BM25SnapshotSection.encode(index), documentIds: []) == index)
    }

    @Test("truncated, corrupted or foreign bytes throw, never crash")
    func malformed() {
        let docs = Self.corpus(count: 40, seed: 9)
        let ids = docs.map(\.id)
        let bytes = BM25SnapshotSection.encode(BM25Index(documents: docs))
        for cut in 0..<bytes.count {
            #expect(throws: BM25FormatError.self) { try BM25SnapshotSection.decode(Array(bytes.prefix(cut)), documentIds: ids) }
        }
        #expect(throws: BM25FormatError.self) { try BM25SnapshotSection.decode(bytes + [0], documentIds: ids) }
        // Other memories: fewer, reordered, or another tokenizer version.
        #expect(throws: BM25FormatError.self) { try BM25SnapshotSection.decode(bytes, documentIds: Array(ids.dropLast())) }
        #expect(throws: BM25FormatError.self) { try BM25SnapshotSection.decode(bytes, documentIds: ids.reversed()) }
        var version = bytes
        version[1] &+= 1
        #expect(throws: BM25FormatError.self) { try BM25SnapshotSection.decode(version, documentIds: ids) }
        // Random damage: any outcome but a crash; most of it is caught.
        var rng = SeededGenerator(seed: 5)
        var caught = 0
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if (try? BM25SnapshotSection.decode(damaged, documentIds: ids)) == nil { caught += 1 }
        }
        #expect(caught > 500)
        // Garbage of every small length.
        for n in 0..<64 {
            let garbage = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? BM25SnapshotSection.decode(garbage, documentIds: ids)
        }
    }
}
