import Foundation
import Testing
@testable import MemoryCore

@Suite("BM25 term frequencies of 255 and more")
struct BM25LargeFrequencyTests {
    @Test("kept exactly, through the snapshot section too, and scored as such")
    func largeFrequencies() throws {
        let docs: [(id: UUID, text: String)] = [254, 255, 256, 1_000].enumerated().map { i, n in
            (UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))!,
             Array(repeating: "tea", count: n).joined(separator: " ") + " jazz")
        }
        let index = BM25Index(documents: docs)
        let tea = try #require(index.termPosition("tea"))
        let start = Int(index.postingStarts[tea])
        #expect((0..<4).map { index.frequency(start + $0) } == [254, 255, 256, 1_000])
        let back = try BM25SnapshotSection.decode(BM25SnapshotSection.encode(index), documentIds: docs.map(\.id))
        #expect(back == index)
        let scores = index.scores(queryTerms: ["tea"], allowed: { _ in true }).scores
        #expect(scores == back.scores(queryTerms: ["tea"], allowed: { _ in true }).scores)
        #expect(scores.count == 4 && scores[0] < scores[1] && scores[1] < scores[2] && scores[2] < scores[3])
    }
}
