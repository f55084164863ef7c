import Foundation

/// The BERT WordPiece tokenizer of all-MiniLM-L6-v2 (uncased), matching Hugging Face `tokenizers`'
/// `BertNormalizer` + `BertPreTokenizer` + `WordPiece` exactly, so that token ids equal the reference's.
///
/// Steps, on Unicode scalars:
/// 1. Clean: drop U+0000, U+FFFD and "other" scalars (Cc, Cf, Cs, Co, Cn) except tab/CR/LF; map every
///    White_Space scalar to a space.
/// 2. Surround each CJK ideograph with spaces (so each becomes its own word).
/// 3. Strip accents: NFD, then drop nonspacing marks (Mn). 4. Lower-case (full Unicode mapping).
/// 5. Split on whitespace; split off every punctuation scalar (ASCII punctuation or Unicode P*) as its own word.
/// 6. WordPiece: greedy longest match against `vocab.txt`, continuation pieces prefixed `##`; a word longer
///    than 100 scalars, or one that cannot be fully matched, becomes `[UNK]`.
/// 7. `[CLS]` + pieces (truncated to `maxLength - 2`) + `[SEP]`.
public struct BertTokenizer: Sendable {
    /// Vocabulary lookup keyed by UTF-8 bytes: byte equality, as in the reference (Swift `String` equality
    /// would treat canonically equivalent spellings as equal, which the reference does not).
    private let vocabulary: [[UInt8]: Int32]
    public let clsID: Int32
    public let sepID: Int32
    public let unkID: Int32
    /// Maximum sequence length including `[CLS]` and `[SEP]` (256 for all-MiniLM-L6-v2).
    public let maxLength: Int
    /// The largest id in the vocabulary.
    public let largestID: Int32
    /// Words longer than this many scalars become `[UNK]` (100 in BERT).
    public let maxCharactersPerWord = 100

    /// Thrown when `vocab.txt` is unusable.
    public struct VocabularyError: Error, CustomStringConvertible {
        public let path: String
        public let detail: String
        public var description: String { "vocabulary \(path) is unusable: \(detail)" }
    }

    /// Loads `vocab.txt` (one token per line; the line number is the id).
    public init(vocabularyFile url: URL, maxLength: Int = 256) throws {
        // Split as bytes: splitting the String would run grapheme breaking over the whole file, a large part of
        // the load on a cold start's path. UTF-8 is still checked (without building a String).
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw VocabularyError(path: url.path, detail: "cannot read it (\(error))")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw VocabularyError(path: url.path, detail: "cannot read it as UTF-8 (invalid UTF-8)")
        }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var vocabulary: [[UInt8]: Int32] = [:]
        vocabulary.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            var token = Array(line)
            if token.last == UInt8(ascii: "\r") { token.removeLast() }
            if vocabulary[token] == nil { vocabulary[token] = Int32(index) }
        }
        try self.init(vocabulary: vocabulary, maxLength: maxLength, path: url.path)
    }

    init(vocabulary: [[UInt8]: Int32], maxLength: Int, path: String) throws {
        func id(_ token: String) throws -> Int32 {
            guard let id = vocabulary[Array(token.utf8)] else {
                throw VocabularyError(path: path, detail: "it lacks the special token \(token)")
            }
            return id
        }
        self.vocabulary = vocabulary
        self.largestID = vocabulary.values.max() ?? 0
        self.clsID = try id("[CLS]")
        self.sepID = try id("[SEP]")
        self.unkID = try id("[UNK]")
        guard maxLength >= 2 else { throw VocabularyError(path: path, detail: "maxLength \(maxLength) < 2") }
        self.maxLength = maxLength
    }

    /// Token ids of `text`: `[CLS]`, at most `maxLength - 2` word pieces, `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [clsID]
        let budget = maxLength - 2
        outer: for word in words(of: text) {
            for piece in wordPieces(of: word) {
                if ids.count - 1 >= budget { break outer }
                ids.append(piece)
            }
        }
        ids.append(sepID)
        return ids
    }

    // MARK: - Normalisation and pre-tokenisation

    /// The normalised text split into words and punctuation, each as Unicode scalars.
    func words(of text: String) -> [[Unicode.Scalar]] {
        // 1 + 2: clean and isolate CJK ideographs.
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isChineseCharacter(scalar) {
                cleaned.append(" "); cleaned.append(scalar); cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        // 3: NFD, drop nonspacing marks. 4: lower-case.
        let decomposed = String(cleaned).decomposedStringWithCanonicalMapping
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(decomposed.unicodeScalars.count)
        for scalar in decomposed.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
            if scalar.properties.changesWhenLowercased {
                normalized.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                normalized.append(scalar)
            }
        }
        // 5: whitespace split, punctuation isolated.
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in normalized {
            if scalar.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current = [] }
            } else if Self.isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Greedy longest-match-first WordPiece of one word.
    func wordPieces(of word: [Unicode.Scalar]) -> [Int32] {
        if word.count > maxCharactersPerWord { return [unkID] }
        // UTF-8 offset of each scalar boundary, so candidate pieces are byte slices.
        var bytes: [UInt8] = []
        var boundaries: [Int] = [0]
        for scalar in word {
            bytes.append(contentsOf: String(scalar).utf8)
            boundaries.append(bytes.count)
        }
        var pieces: [Int32] = []
        var start = 0
        let prefix: [UInt8] = Array("##".utf8)
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var candidate = start > 0 ? prefix : []
                candidate.append(contentsOf: bytes[boundaries[start]..<boundaries[end]])
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unkID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    // MARK: - Character classes (as in Hugging Face tokenizers' bert normalizer / pre-tokenizer)

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
