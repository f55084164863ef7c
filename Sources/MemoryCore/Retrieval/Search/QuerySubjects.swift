import Foundation

/// The names a query asks about, matched against the subject a memory opens with.
///
/// A memory usually starts with what it is about: "Alice prefers tea", "Caroline: I went to a workshop", "User
/// moved to Berlin". A query that names someone ("What workshop did Caroline attend?") is about that subject,
/// and a memory that merely mentions the name ("Wow, fantastic, Caroline!") is weaker evidence than one whose
/// subject it is. Names are the query's capitalised words other than its first word (which is capitalised
/// anyway) and stop words; a possessive `'s` is dropped. Matching is case-insensitive.
struct QuerySubjects: Sendable, Equatable {
    /// Lower-cased names.
    private(set) var names: Set<String> = []
    /// The names that are plain ASCII letters and digits, as bytes (the fast path of ``isSubject(of:)``).
    private var asciiNames: [[UInt8]] = []
    private var hasNonASCIINames = false

    var isEmpty: Bool { names.isEmpty }

    init(_ query: String) {
        let words = Self.words(query)
        for word in words.dropFirst() {
            guard let first = word.first, first.isUppercase else { continue }
            let name = word.lowercased()
            guard !TextTokenizer.stopWords.contains(name), names.insert(name).inserted else { continue }
            if name.utf8.allSatisfy({ $0 < 0x80 }) { asciiNames.append(Array(name.utf8)) } else { hasNonASCIINames = true }
        }
    }

    /// True when `memoryText` opens with one of the names (its first word, capitalised, possessive dropped).
    /// Runs per search candidate, so ASCII names are compared on the UTF-8 bytes without splitting the text.
    func isSubject(of memoryText: String) -> Bool {
        guard !names.isEmpty else { return false }
        var utf8 = memoryText.utf8[...]
        while let b = utf8.first, b == UInt8(ascii: " ") || b == UInt8(ascii: "\"") { utf8 = utf8.dropFirst() }
        guard let lead = utf8.first else { return false }
        if lead < 0x80 {
            guard lead >= UInt8(ascii: "A") && lead <= UInt8(ascii: "Z") else { return false }
            for name in asciiNames where Self.opens(utf8, with: name) { return true }
            guard hasNonASCIINames else { return false }
        }
        guard let first = Self.words(memoryText.prefix(64)).first, first.first?.isUppercase == true else { return false }
        return names.contains(first.lowercased())
    }

    /// `text` starts with `name` (lower-case ASCII) in any case, followed by the end or a non-letter.
    private static func opens(_ text: Substring.UTF8View, with name: [UInt8]) -> Bool {
        var i = text.startIndex
        for expected in name {
            guard i < text.endIndex, text[i] | 0x20 == expected else { return false }
            i = text.index(after: i)
        }
        guard i < text.endIndex else { return true }
        let next = text[i]
        return !(next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z")) && !(next >= 0x30 && next <= 0x39)
            && next < 0x80
    }

    /// Words of letters and digits, with a trailing possessive `'s` / `’s` dropped.
    private static func words<S: StringProtocol>(_ text: S) -> [Substring] {
        text.split { !$0.isLetter && !$0.isNumber && $0 != "'" && $0 != "’" }.map { word -> Substring in
            var w = Substring(word)
            if w.hasSuffix("'s") || w.hasSuffix("’s") { w = w.dropLast(2) }
            return w.drop { $0 == "'" || $0 == "’" }
        }.filter { !$0.isEmpty }
    }
}
