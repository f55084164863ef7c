/// A light English stemmer: steps 1a, 1b, 1c and 5a of Porter's algorithm (plurals, `-ed`, `-ing`, final `y`,
/// final `e`),
/// enough to make "invoices"/"invoice", "running"/"run", "preferred"/"prefer" meet without Porter's more
/// aggressive suffix stripping. Applied only to pure-ASCII terms; anything else is returned unchanged.
public enum EnglishStemmer {
    public static func stem(_ word: String) -> String {
        guard word.utf8.count > 2, word.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return word }
        var w = Array(word.utf8)
        step1a(&w)
        step1b(&w)
        step1c(&w)
        step5a(&w)
        return String(decoding: w, as: UTF8.self)
    }

    private static func isConsonant(_ w: [UInt8], _ i: Int) -> Bool {
        switch w[i] {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"): return false
        case UInt8(ascii: "y"): return i == 0 ? true : !isConsonant(w, i - 1)
        default: return true
        }
    }

    /// Porter's m: the number of vowel-consonant sequences in `w[0..<end]`.
    private static func measure(_ w: [UInt8], _ end: Int) -> Int {
        var m = 0
        var i = 0
        while i < end, isConsonant(w, i) { i += 1 }
        while i < end {
            while i < end, !isConsonant(w, i) { i += 1 }
            guard i < end else { break }
            m += 1
            while i < end, isConsonant(w, i) { i += 1 }
        }
        return m
    }

    private static func hasVowel(_ w: [UInt8], _ end: Int) -> Bool {
        (0..<end).contains { !isConsonant(w, $0) }
    }

    private static func endsWith(_ w: [UInt8], _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
    }

    /// consonant-vowel-consonant at the end, the last not w, x or y.
    private static func endsCVC(_ w: [UInt8]) -> Bool {
        let n = w.count
        guard n >= 3, isConsonant(w, n - 1), !isConsonant(w, n - 2), isConsonant(w, n - 3) else { return false }
        let last = w[n - 1]
        return last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y")
    }

    private static func step1a(_ w: inout [UInt8]) {
        if endsWith(w, "sses") { w.removeLast(2) }
        else if endsWith(w, "ies") { w.removeLast(2) }
        else if endsWith(w, "ss") || endsWith(w, "us") || endsWith(w, "is") { return }
        else if endsWith(w, "s"), w.count > 3 { w.removeLast() }
    }

    private static func step1b(_ w: inout [UInt8]) {
        if endsWith(w, "eed") {
            if measure(w, w.count - 3) > 0 { w.removeLast() }
            return
        }
        var stripped = false
        if endsWith(w, "ed"), hasVowel(w, w.count - 2) { w.removeLast(2); stripped = true }
        else if endsWith(w, "ing"), hasVowel(w, w.count - 3) { w.removeLast(3); stripped = true }
        guard stripped else { return }
        if endsWith(w, "at") || endsWith(w, "bl") || endsWith(w, "iz") {
            w.append(UInt8(ascii: "e"))
        } else if w.count >= 2, w[w.count - 1] == w[w.count - 2], isConsonant(w, w.count - 1),
                  ![UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "z")].contains(w[w.count - 1]) {
            w.removeLast()
        } else if measure(w, w.count) == 1, endsCVC(w) {
            w.append(UInt8(ascii: "e"))
        }
    }

    private static func step1c(_ w: inout [UInt8]) {
        if w.count > 2, w[w.count - 1] == UInt8(ascii: "y"), hasVowel(w, w.count - 1) {
            w[w.count - 1] = UInt8(ascii: "i")
        }
    }

    private static func step5a(_ w: inout [UInt8]) {
        guard w.count > 2, w[w.count - 1] == UInt8(ascii: "e") else { return }
        let stem = Array(w.dropLast())
        let m = measure(stem, stem.count)
        if m > 1 || (m == 1 && !endsCVC(stem)) { w.removeLast() }
    }
}
