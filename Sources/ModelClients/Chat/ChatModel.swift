import Foundation

/// One chat message.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat completion request that asks for JSON output.
public struct ChatRequest: Sendable {
    public var messages: [ChatMessage]
    /// Name of the JSON schema (OpenAI's `json_schema.name`).
    public var schemaName: String
    /// The JSON schema of the expected answer, serialized. Clients whose server cannot enforce it step down to
    /// weaker output modes (``StructuredOutputMode``), so the caller checks the answer against it.
    public var jsonSchema: Data
    public var temperature: Double
    public var maxTokens: Int?

    public init(messages: [ChatMessage], schemaName: String, jsonSchema: Data, temperature: Double = 0,
                maxTokens: Int? = nil) {
        self.messages = messages
        self.schemaName = schemaName
        self.jsonSchema = jsonSchema
        self.temperature = temperature
        self.maxTokens = maxTokens
    }
}

/// Tokens a call used, as the provider reports them.
public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int = 0, completionTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(promptTokens: a.promptTokens + b.promptTokens,
                   completionTokens: a.completionTokens + b.completionTokens)
    }
}

/// The model's answer: the JSON text and what it cost.
public struct ChatResponse: Sendable, Equatable {
    /// The JSON object text of the answer (taken out of any surrounding text or code fence).
    public var content: String
    public var usage: TokenUsage
    /// `stop`, `length`, `content_filter`, ...
    public var finishReason: String?
    /// How the JSON was asked for, when the client negotiates it (nil for clients that do not).
    public var outputMode: StructuredOutputMode?

    public init(content: String, usage: TokenUsage, finishReason: String?, outputMode: StructuredOutputMode? = nil) {
        self.content = content
        self.usage = usage
        self.finishReason = finishReason
        self.outputMode = outputMode
    }
}

/// A chat model for the infer pipeline (fact extraction and reconciliation).
public protocol ChatModel: Sendable {
    /// A stable name of the deployment or model.
    var model: String { get }
    /// Runs one completion, retrying throttling and transient failures as the client's policy says.
    /// Throws ``ModelClientError``.
    func complete(_ request: ChatRequest) async throws -> ChatResponse
}
