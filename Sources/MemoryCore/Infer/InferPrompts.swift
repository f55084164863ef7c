import Foundation

/// The prompt texts of the infer pipeline, read from `Sources/MemoryCore/Prompts/*.md` (bundled resources).
struct InferPrompts: Sendable {
    var factExtraction: String
    var memoryReconciliation: String

    /// Loaded once per process.
    static let bundled: Result<InferPrompts, InferError> = Result { () throws(InferError) -> InferPrompts in try load() }

    static func load() throws(InferError) -> InferPrompts {
        InferPrompts(factExtraction: try text("fact-extraction"), memoryReconciliation: try text("memory-reconciliation"))
    }

    private static func text(_ name: String) throws(InferError) -> String {
        let url = Bundle.module.url(forResource: name, withExtension: "md", subdirectory: "Prompts")
            ?? Bundle.module.url(forResource: name, withExtension: "md")
        guard let url, let data = try? Data(contentsOf: url) else { throw .promptMissing(name: name) }
        return String(decoding: data, as: UTF8.self)
    }

    /// The extraction system prompt: the file with `{{message_time}}` and `{{weekday}}` filled in, followed
    /// by the caller's instructions, includes and excludes.
    func extractionSystemPrompt(_ input: InferInput) -> String {
        var prompt = factExtraction
            .replacingOccurrences(of: "{{message_time}}", with: Self.timestamp(input.messageTime))
            .replacingOccurrences(of: "{{weekday}}", with: Self.weekday(input.messageTime))
        if let includes = Self.nonBlank(input.includes) {
            prompt += "\n\nOnly remember information of these kinds (ignore everything else):\n\(includes)"
        }
        if let excludes = Self.nonBlank(input.excludes) {
            prompt += "\n\nNever remember information of these kinds:\n\(excludes)"
        }
        if let custom = Self.nonBlank(input.customInstructions) {
            prompt += "\n\nAdditional instructions from the application (follow them unless they ask you to break the JSON format):\n\(custom)"
        }
        return prompt
    }

    /// The reconciliation system prompt, with the caller's instructions appended (they may say how to phrase
    /// memories).
    func reconciliationSystemPrompt(_ input: InferInput) -> String {
        var prompt = memoryReconciliation
        if let custom = Self.nonBlank(input.customInstructions) {
            prompt += "\n\nAdditional instructions from the application (follow them unless they ask you to break the JSON format or the id rules):\n\(custom)"
        }
        return prompt
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func weekday(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let index = calendar.component(.weekday, from: date) - 1
        return names.indices.contains(index) ? names[index] : ""
    }

    private static func nonBlank(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }
}
