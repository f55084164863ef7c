import Foundation
import MemoryStorage
import Testing
import TestSupport
@testable import MemoryCore

/// The ranking principles of ``RankingOptions`` (docs/retrieval.md, "Ranking"), each on a small partition made
/// here: keyword calibration, conversational context, and current state over stale state.
@Suite("Ranking")
struct RankingTests {
    private func rows(_ hits: [SearchHit]) -> [Int] {
        hits.map { Int($0.memory.hash)! }
    }

    @Test("best-match calibration: the best keyword match scores 1, the ideal scale leaves it below")
    func bestMatchCalibration() {
        var rng = SeededGenerator(seed: 11)
        let texts = ["prefers weekly invoices by email", "invoices go to accounting", "loves weekly yoga", "drinks coffee"]
        let memories = texts.enumerated().map {
            RetrievalFixtures.memory($0.offset, text: $0.element, vector: RetrievalFixtures.randomVector(32, &rng))
        }
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        let query = RetrievalFixtures.randomVector(32, &rng)
        let calibrated = index.search(SearchQuery(text: "weekly invoices", vector: query, topK: 4, ranking: RetrievalFixtures.fusionOnly))
        let best = calibrated.max { $0.breakdown.bm25 < $1.breakdown.bm25 }
        #expect(best?.memory.hash == "0" && best?.breakdown.bm25 == 1)
        for h in calibrated {
            let s = h.breakdown.semantic, k = h.breakdown.bm25
            #expect(abs(h.score - (s + (1 - s) * RankingOptions.standard.keywordWeight * k)) < 1e-12)
        }
        let ideal = index.search(SearchQuery(text: "weekly invoices", vector: query, topK: 4, ranking: .baseline))
        let idealBest = ideal.first { $0.memory.hash == "0" }
        #expect((idealBest?.breakdown.bm25 ?? 1) < 1)
    }

    /// A question and its answer on the next turn: the answer shares no word or meaning with the query, yet
    /// conversational context brings it in right after the question.
    private func conversation(answerCreatedAfter gap: TimeInterval = 1, answerRun: String? = nil) -> [StoredMemory] {
        var rng = SeededGenerator(seed: 12)
        let d = 256
        let query = RetrievalFixtures.randomVector(d, &rng)
        var memories = [
            RetrievalFixtures.memory(0, text: "Bob: what did you name the new puppy?", vector: query),
            RetrievalFixtures.memory(1, text: "Alice: we called him Biscuit, after the cookies",
                                     vector: RetrievalFixtures.unit(query.map { -$0 })),
        ]
        memories[1].createdAt = memories[0].createdAt.addingTimeInterval(gap)
        memories[1].scopes.runId = answerRun
        for i in 2..<102 {   // more memories than the vector side's 64 candidates
            memories.append(RetrievalFixtures.memory(i, text: "Carol: the weather was fine on day \(i)",
                                                     vector: RetrievalFixtures.randomVector(d, &rng)))
            memories[i].createdAt = memories[1].createdAt.addingTimeInterval(Double(i))
        }
        return memories
    }

    private func queryVector() -> [Float] {
        var rng = SeededGenerator(seed: 12)
        return RetrievalFixtures.randomVector(256, &rng)
    }

    @Test("conversational context: the turn after a matching question ranks right after it")
    func contextLiftsTheAnswer() throws {
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(conversation()))
        let query = SearchQuery(text: "name of the puppy", vector: queryVector(), topK: 3, explain: true)
        let hits = index.search(query)
        #expect(rows(hits).prefix(2) == [0, 1])
        let answer = hits.dropFirst().first
        #expect(answer?.breakdown.semantic == 0 && answer?.breakdown.bm25 == 0)
        let question = hits.first?.explanation.map { $0.scoreBeforeRecency } ?? 0
        #expect(abs((answer?.score ?? 0) - RankingOptions.standard.contextWeight * question) < 1e-9)
        #expect(answer?.explanation?.neighbourScore == question)
        #expect(answer?.explanation?.sources == ["context"])

        var without = query
        without.ranking = .baseline
        #expect(!rows(index.search(without)).contains(1))
    }

    @Test("conversational context needs the same scopes, a write within the window, and a visible neighbour")
    func contextBoundaries() throws {
        let query = SearchQuery(text: "name of the puppy", vector: queryVector(), topK: 3)
        let later = PartitionSearchIndex(state: RetrievalFixtures.state(conversation(answerCreatedAfter: 2 * 3_600)))
        #expect(!rows(later.search(query)).contains(1))
        let otherRun = PartitionSearchIndex(state: RetrievalFixtures.state(conversation(answerRun: "run-2")))
        #expect(!rows(otherRun.search(query)).contains(1))

        let index = PartitionSearchIndex(state: RetrievalFixtures.state(conversation()))
        var hidden = query
        hidden.filter = try MemoryFilter.parse(.object(["id": .object(["ne": .string(conversation()[0].id.uuidString)])]))
        let hits = index.search(hidden)
        #expect(!rows(hits).contains(0) && !rows(hits).contains(1))
        // Vector and keyword modes rank by their one signal only.
        var vectorOnly = query
        vectorOnly.mode = .vector
        #expect(!rows(index.search(vectorOnly)).contains(1))
    }

    /// An older memory and a newer restatement of the same subject a day apart (cosine 0.89 between them), and
    /// a query `0.8 · older + newerWeight · newer`: the older is always the closer one.
    private func restatement(newerWeight: Float) -> (PartitionSearchIndex, [Float]) {
        func unit(_ v: [Float]) -> [Float] { RetrievalFixtures.unit(v) }
        let older = unit([1, 0.3, 0, 0, 0, 0, 0, 0])
        let newer = unit([1, -0.1, 0.3, 0, 0, 0, 0, 0])
        let query = unit(zip(older, newer).map { 0.8 * $0 + newerWeight * $1 })
        var memories = [
            RetrievalFixtures.memory(0, text: "I prefer dark mode", vector: older),
            RetrievalFixtures.memory(1, text: "Actually I switched, I now prefer light mode", vector: newer),
            RetrievalFixtures.memory(2, text: "Lives in Lisbon", vector: unit([0, 0, 0, 1, 0, 0, 0, 0])),
        ]
        memories[1].createdAt = memories[0].createdAt.addingTimeInterval(86_400)
        memories[2].createdAt = memories[0].createdAt.addingTimeInterval(2 * 86_400)
        return (PartitionSearchIndex(state: RetrievalFixtures.state(memories)), query)
    }

    @Test("current state: a newer restatement of the same subject outranks the older, which is marked superseded")
    func newerRestatementWins() {
        let (index, query) = restatement(newerWeight: 0.4)
        let plain = index.search(SearchQuery(text: "", vector: query, topK: 3, ranking: .baseline))
        #expect(rows(plain).prefix(2) == [0, 1])
        let hits = index.search(SearchQuery(text: "", vector: query, topK: 3, explain: true))
        #expect(rows(hits).prefix(2) == [1, 0])
        #expect(hits.first?.score == plain.first?.score)
        #expect(hits.dropFirst().first?.explanation?.supersededBy == hits.first?.memory.id)
        #expect(hits.first?.explanation?.supersededBy == nil)
    }

    @Test("current state: a newer memory that answers the query much worse does not displace the older")
    func lessRelevantNewerStays() {
        let (index, query) = restatement(newerWeight: -0.5)
        let hits = index.search(SearchQuery(text: "", vector: query, topK: 3, explain: true))
        let older = hits.first { $0.memory.hash == "0" }, newer = hits.first { $0.memory.hash == "1" }
        #expect((newer?.breakdown.semantic ?? 1) < RankingOptions.standard.supersedeRelevance * (older?.breakdown.semantic ?? 0))
        #expect(rows(hits).first == 0)
        #expect(older?.explanation?.supersededBy == nil)
    }
}

@Suite("Query time references")
struct QueryTimeReferenceTests {
    private func seconds(_ year: Int, _ month: Int, _ day: Int) -> Double {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12))!.timeIntervalSince1970
    }

    @Test("months (capitalised), month-year pairs and years are read; the verb may is not a month")
    func parsing() {
        let june = QueryTimeReference("When did Melanie go camping in June?")
        #expect(june.months == [6] && june.years.isEmpty && june.yearMonths.isEmpty)
        #expect(june.matches(unixSeconds: seconds(2023, 6, 30)) && june.matches(unixSeconds: seconds(2021, 6, 1)))
        #expect(!june.matches(unixSeconds: seconds(2023, 7, 1)))
        let mayYear = QueryTimeReference("What happened in May 2023 and in 2021?")
        #expect(mayYear.yearMonths == [202_305] && mayYear.years == [2021] && mayYear.months.isEmpty)
        #expect(mayYear.matches(unixSeconds: seconds(2023, 5, 8)) && !mayYear.matches(unixSeconds: seconds(2022, 5, 8)))
        #expect(mayYear.matches(unixSeconds: seconds(2021, 12, 31)))
        #expect(QueryTimeReference("you may march on").isEmpty)
        #expect(QueryTimeReference("what theme does the user like?").isEmpty)
        #expect(!QueryTimeReference("in 2023").matches(unixSeconds: .nan))
    }

    @Test("civil-from-days agrees with the Gregorian calendar across leap years and before 1970")
    func civilDates() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in stride(from: -40_000, through: 60_000, by: 37) {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400)
            let expected = calendar.dateComponents([.year, .month], from: date)
            let got = QueryTimeReference.civilYearMonth(days: days)
            #expect(got.year == expected.year && got.month == expected.month)
        }
    }

    @Test("a memory from the month the query names is lifted over an equally relevant one from another month")
    func timeLift() {
        var rng = SeededGenerator(seed: 21)
        let v = RetrievalFixtures.randomVector(16, &rng)
        let w = RetrievalFixtures.randomVector(16, &rng)
        let query = RetrievalFixtures.unit(zip(v, w).map { $0 + $1 })     // cosine ≈ 0.7 to the memories
        var memories = [
            RetrievalFixtures.memory(0, text: "went camping with the kids", vector: v),
            RetrievalFixtures.memory(1, text: "went camping with the kids", vector: v),
        ]
        memories[0].createdAt = Date(timeIntervalSince1970: seconds(2023, 6, 10))
        memories[1].createdAt = Date(timeIntervalSince1970: seconds(2023, 7, 10))
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        var ranking = RetrievalFixtures.fusionOnly
        ranking.timeWeight = RankingOptions.standard.timeWeight
        for (month, first) in [("June", "0"), ("July", "1")] {
            let hits = index.search(SearchQuery(text: "camping in \(month)", vector: query, topK: 2, ranking: ranking))
            #expect(hits.first?.memory.hash == first)
            let f = hits.last?.score ?? 1
            #expect(f < 1)
            #expect(abs((hits.first?.score ?? 0) - (f + (1 - f) * ranking.timeWeight)) < 1e-9)
        }
        let plain = index.search(SearchQuery(text: "camping", vector: query, topK: 2, ranking: ranking))
        #expect(plain.first?.score == plain.last?.score)
    }
}

@Suite("Query subjects")
struct QuerySubjectTests {
    @Test("names are the capitalised words after the first, possessives dropped, stop words skipped")
    func names() {
        let q = QuerySubjects("What book did Caroline's friend Melanie recommend? It was In May")
        #expect(q.isSubject(of: "Caroline: I loved that book"))
        #expect(q.isSubject(of: "Melanie's brother reads a lot"))
        #expect(q.isSubject(of: "\"Melanie\" said yes"))
        #expect(!q.isSubject(of: "What a book"))                 // the query's first word is not a name
        #expect(!q.isSubject(of: "It rained"))                    // a capitalised stop word is not a name
        #expect(!q.isSubject(of: "In the morning"))
        #expect(!q.isSubject(of: "Wow, Caroline, that is great"))  // a mention is not the subject
        #expect(!q.isSubject(of: "Carolines are rare"))           // a longer word is another word
        #expect(!q.isSubject(of: "caroline: lower-case is no name"))
        #expect(!q.isSubject(of: ""))
        #expect(QuerySubjects("what does the user like?").isEmpty)
    }

    @Test("non-ASCII names match too")
    func unicodeNames() {
        let q = QuerySubjects("Where did Zoë move?")
        #expect(q.isSubject(of: "Zoë: we moved to Lyon"))
        #expect(!q.isSubject(of: "Zoe: not the same name"))
        #expect(QuerySubjects("Wo wohnt Ömer?").isSubject(of: "Ömer wohnt in Köln"))
    }

    @Test("a memory whose subject the query names is lifted over an equally relevant mention")
    func subjectLift() {
        var rng = SeededGenerator(seed: 31)
        let v = RetrievalFixtures.randomVector(16, &rng)
        let w = RetrievalFixtures.randomVector(16, &rng)
        let query = RetrievalFixtures.unit(zip(v, w).map { $0 + $1 })
        let memories = [
            RetrievalFixtures.memory(0, text: "Melanie: Caroline went to a pottery workshop", vector: v),
            RetrievalFixtures.memory(1, text: "Caroline: Melanie went to a pottery workshop", vector: v),
        ]
        let index = PartitionSearchIndex(state: RetrievalFixtures.state(memories))
        var ranking = RetrievalFixtures.fusionOnly
        ranking.subjectWeight = RankingOptions.standard.subjectWeight
        #expect(ranking.subjectWeight > 0)
        for (name, first) in [("Caroline", "1"), ("Melanie", "0")] {
            let hits = index.search(SearchQuery(text: "What workshop did \(name) attend?", vector: query, topK: 2, ranking: ranking))
            #expect(hits.first?.memory.hash == first)
            let f = hits.last?.score ?? 1
            #expect(abs((hits.first?.score ?? 0) - (f + (1 - f) * ranking.subjectWeight)) < 1e-9)
        }
        ranking.subjectWeight = 0
        let plain = index.search(SearchQuery(text: "What workshop did Caroline attend?", vector: query, topK: 2, ranking: ranking))
        #expect(plain.first?.score == plain.last?.score)
    }
}
