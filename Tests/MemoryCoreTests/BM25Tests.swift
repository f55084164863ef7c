import Foundation
import Testing
@testable import MemoryCore

@Suite("Tokeniser, stemmer and BM25")
struct BM25Tests {
    @Test("tokeniser normalises case, punctuation, Unicode and CJK")
    func tokeniser() {
        #expect(TextTokenizer.rawTokens("Hello, WORLD! e-mail: bob@x.io") == ["hello", "world", "e", "mail", "bob", "x", "io"])
        #expect(TextTokenizer.rawTokens("ＡＢＣ ﬁle Café") == ["abc", "file", "café"])
        #expect(TextTokenizer.rawTokens("Cafe\u{301}") == ["café"])   // NFKC composes the accent
        #expect(TextTokenizer.rawTokens("don't Alice’s 'quoted'") == ["dont", "alices", "quoted"])
        #expect(TextTokenizer.rawTokens("東京に住む") == ["東", "京", "に", "住", "む"])
        #expect(TextTokenizer.rawTokens("abc日本xyz") == ["abc", "日", "本", "xyz"])
        #expect(TextTokenizer.rawTokens("Москва 2026") == ["москва", "2026"])
        #expect(TextTokenizer.rawTokens("") == [])
        #expect(TextTokenizer.terms("Where does the user live?") == ["user", "live"])
    }

    @Test("stemmer conflates common English inflections", arguments: [
        ("invoices", "invoice"), ("running", "run"), ("preferred", "prefers"), ("ponies", "pony"),
        ("making", "make"), ("agreed", "agree"), ("caresses", "caress"), ("hopping", "hop"), ("filing", "file"),
    ])
    func stems(a: String, b: String) {
        #expect(EnglishStemmer.stem(a) == EnglishStemmer.stem(b), "\(a) → \(EnglishStemmer.stem(a)), \(b) → \(EnglishStemmer.stem(b))")
    }

    @Test("stemmer leaves short, non-ASCII and unrelated words apart")
    func stemDistinct() {
        #expect(EnglishStemmer.stem("is") == "is")
        #expect(EnglishStemmer.stem("café") == "café")
        #expect(EnglishStemmer.stem("thing") == "thing")
        #expect(EnglishStemmer.stem("sing") == "sing")
        #expect(EnglishStemmer.stem("invoice") != EnglishStemmer.stem("invite"))
    }

    static func docs(_ texts: [String]) -> [(id: UUID, text: String)] {
        texts.enumerated().map { (UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", $0.offset))!, $0.element) }
    }

    @Test("BM25 matches the textbook formula on a small corpus")
    func formula() {
        let index = BM25Index(documents: Self.docs(["apple banana apple", "banana cherry", "cherry date elderberry fig"]))
        let s = index.scores(queryTerms: ["appl", "banana"], allowed: { _ in true })
        // N = 3, avgdl = 3; df(appl) = 1, df(banana) = 2.
        func idf(_ df: Double) -> Double { log(1 + (3 - df + 0.5) / (df + 0.5)) }
        func part(_ tf: Double, _ len: Double) -> Double { tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 3)) }
        let expected0 = idf(1) * part(2, 3) + idf(2) * part(1, 3)
        let expected1 = idf(2) * part(1, 2)
        #expect(s.rows == [0, 1])
        #expect(abs(s.scores[0] - expected0) < 1e-9)
        #expect(abs(s.scores[1] - expected1) < 1e-9)
        #expect(abs(s.ideal - (idf(1) + idf(2))) < 1e-9)
        #expect(s.normalized(s.scores[0]) <= 1 && s.normalized(s.scores[1]) < s.normalized(s.scores[0]))
        #expect(index.matchedTerms(row: 0, queryTerms: ["banana", "appl", "zzz"]) == ["appl", "banana"])
        #expect(index.matchedTerms(row: 2, queryTerms: ["banana", "appl"]) == [])
        // A filter removes rows from the scores.
        #expect(index.scores(queryTerms: ["banana"], allowed: { $0 != 0 }).rows == [1])
    }
}
