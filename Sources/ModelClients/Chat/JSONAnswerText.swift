import Foundation

/// Finds the JSON object in a model's answer text.
///
/// A model asked for JSON without a server-side guarantee (``StructuredOutputMode/promptOnly``, or a
/// `json_object` server that does not enforce it) often wraps the object: in a fenced code block
/// (```` ```json … ``` ````), after a sentence ("Here are the facts: {…}"), or followed by an explanation. This
/// takes, in order: the whole text when it is a JSON object; the first fenced block that is one; the first
/// balanced `{…}` span that is one. Nothing is guessed or completed: a truncated object is not found.
public enum JSONAnswerText {
    /// Most `{` positions tried as the start of an embedded object (bounds the work on long rambling answers).
    static let maxCandidates = 32

    /// The JSON object text in `answer`, or nil when it holds none.
    public static func object(in answer: String) -> String? {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if isObject(trimmed) { return trimmed }
        for block in fencedBlocks(trimmed) where isObject(block) { return block }
        return firstBalancedObject(in: trimmed)
    }

    /// Whether `text` parses as a JSON object (not an array or a scalar).
    static func isObject(_ text: String) -> Bool {
        guard text.first == "{", let data = text.data(using: .utf8) else { return false }
        return (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
    }

    /// The contents of ```` ``` ```` fences, with an optional language tag on the opening line removed.
    static func fencedBlocks(_ text: String) -> [String] {
        let parts = text.components(separatedBy: "```")
        guard parts.count >= 3 else { return [] }
        var blocks: [String] = []
        var index = 1
        while index < parts.count - 1 {
            var block = Substring(parts[index])
            if let newline = block.firstIndex(of: "\n"),
               block[..<newline].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == " " }) {
                block = block[block.index(after: newline)...]
            }
            blocks.append(block.trimmingCharacters(in: .whitespacesAndNewlines))
            index += 2
        }
        return blocks
    }

    /// The first `{…}` span, braces balanced outside JSON strings, that parses as an object.
    static func firstBalancedObject(in text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        var tried = 0
        var start = 0
        while start < scalars.count, tried < maxCandidates {
            guard scalars[start] == "{" else { start += 1; continue }
            tried += 1
            if let end = matchingBrace(scalars, from: start) {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[start...end])
                let candidate = String(view)
                if isObject(candidate) { return candidate }
            }
            start += 1
        }
        return nil
    }

    /// The index of the `}` closing the `{` at `start`, skipping braces inside strings; nil when unbalanced.
    private static func matchingBrace(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < scalars.count {
            let c = scalars[index]
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }
}
