import Foundation

/// Renders search hits as the "Memory" block an agent pastes into its prompt: one line per memory, most
/// relevant first, `- [YYYY-MM-DD] text` with the memory's `updated_at` day (UTC), stopping before the block
/// would exceed the token budget.
///
/// Tokens are estimated, not computed with a model tokenizer: a line costs ⌈UTF-8 bytes / 4⌉ tokens
/// (including its newline) — about right for English with GPT/Llama-style BPE tokenizers, and an
/// over-estimate for most other text, so the block stays within budget.
public enum MemoryBlockFormatter {
    /// The estimated token count of `text`.
    public static func estimatedTokens(_ text: String) -> Int {
        (text.utf8.count + 3) / 4
    }

    /// The lines for `hits` whose total estimate stays within `maxTokens`, joined by newlines. Stops at the
    /// first line that does not fit (a lower-ranked short line never jumps ahead of a higher-ranked one).
    public static func format(_ hits: [SearchHit], maxTokens: Int) -> String {
        var lines: [String] = []
        var used = 0
        for hit in hits {
            let text = hit.memory.text.split(whereSeparator: \.isNewline).joined(separator: " ")
            let line = "- [\(day(hit.memory.updatedAt))] \(text)"
            let cost = estimatedTokens(line + "\n")
            guard used + cost <= maxTokens else { break }
            used += cost
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func day(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }
}
