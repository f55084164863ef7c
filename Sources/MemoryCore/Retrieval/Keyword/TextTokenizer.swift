import Foundation

/// Splits text into the terms BM25 indexes and queries with, identically for memories and queries:
///
/// 1. Unicode NFKC normalisation, then lower-casing (so `ﬁ`→`fi`, full-width `ＡＢＣ`→`abc`, `É`→`é`);
/// 2. a term is a maximal run of letters, digits and combining marks; everything else separates terms, except
///    an apostrophe between letters, which is dropped (`don't` → `dont`, `alice's` → `alices`);
/// 3. each Han, Hiragana or Katakana character is a term of its own (those scripts do not separate words);
/// 4. English stop words are dropped and the rest stemmed by ``EnglishStemmer`` (ASCII terms only).
public enum TextTokenizer {
    /// The terms of `text`, in order, with repeats.
    public static func terms(_ text: String) -> [String] {
        var out: [String] = []
        for raw in rawTokens(text) {
            if raw.unicodeScalars.count == 1, let s = raw.unicodeScalars.first, isIdeographic(s) {
                out.append(raw)
                continue
            }
            if stopWords.contains(raw) { continue }
            out.append(EnglishStemmer.stem(raw))
        }
        return out
    }

    /// Normalised, lower-cased tokens before stop-word removal and stemming.
    static func rawTokens(_ text: String) -> [String] {
        let normalised = text.precomposedStringWithCompatibilityMapping.lowercased()
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var pendingApostrophe = false
        func flush() {
            if !current.isEmpty { tokens.append(String(current)) }
            current = String.UnicodeScalarView()
            pendingApostrophe = false
        }
        for scalar in normalised.unicodeScalars {
            if isIdeographic(scalar) {
                flush()
                tokens.append(String(scalar))
            } else if isWordScalar(scalar) {
                pendingApostrophe = false
                current.append(scalar)
            } else if (scalar == "'" || scalar == "\u{2019}"), !current.isEmpty, !pendingApostrophe {
                pendingApostrophe = true   // dropped if a letter follows, a separator otherwise
            } else {
                flush()
            }
        }
        flush()
        return tokens
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A)
        }
        let p = s.properties
        if p.isAlphabetic { return true }
        switch p.generalCategory {
        case .decimalNumber, .otherNumber, .letterNumber, .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// Han ideographs, Hiragana and Katakana: one term per character.
    static func isIdeographic(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// Very common English function words: they match nearly every memory and would only add noise.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "did", "for", "from", "has", "have",
        "had", "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or",
        "our", "she", "so", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
        "was", "we", "were", "what", "when", "where", "which", "who", "will", "with", "you", "your",
    ]
}
