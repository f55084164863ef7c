import Foundation
import Logging
import OutgoingHTTP

/// A ``ChatModel`` over the OpenAI chat completions API: Azure OpenAI (both URL styles) and
/// OpenAI-compatible servers (OpenAI, vLLM, Ollama, llama.cpp / llama-cpp-python, LM Studio).
///
/// **Structured output is negotiated.** A call starts at the strongest ``StructuredOutputMode`` the model's
/// server is known to accept (``StructuredOutputMemory``; `json_schema` at first). When the server answers a
/// 4xx or 5xx that names `response_format`, `json_schema`, `json_object` or `schema`
/// (``ResponseFormatRejection``; llama-cpp-python answers 500 there, which is therefore not retried), the same
/// call is repeated one mode down: `json_object` with `response_format.schema`, then plain `json_object`, then
/// no `response_format` at all. The mode that worked is remembered for the process and the downgrade logged
/// once. Below `json_schema` the schema is also spelled out at the end of the (first) system message.
///
/// **The answer is checked.** A content filter or a refusal is ``ModelClientError/refused(provider:detail:)``;
/// the JSON object is taken out of the content (bare, fenced or embedded, ``JSONAnswerText``) whatever the
/// mode, and an answer with none (or cut at the token limit before the object closed) is
/// ``ModelClientError/malformedResponse(provider:detail:)``. Whether the object fits the schema is the
/// caller's check: the client returns JSON, not validated data.
public struct OpenAIChatClient: ChatModel {
    public let model: String
    public let endpoint: OpenAIEndpoint
    /// Name of the token-limit field: `max_tokens`, or `max_completion_tokens` for reasoning models.
    public let maxTokensField: String
    /// Cap on every answer's tokens, below what the caller asks (`MEMORY_CHAT_MAX_TOKENS`): bounds the time a
    /// slow, CPU-served model can spend on one answer. Nil: the caller's limit.
    public let maxOutputTokens: Int?
    private let auth: ModelAuth
    private let http: RetryingHTTPClient
    private let outputModes: StructuredOutputMemory

    /// - Parameters:
    ///   - model: the model name sent in the body (Azure v1: the deployment name); for Azure deployment URLs
    ///     only a label.
    ///   - maxTokensField: `max_tokens` (default) or `max_completion_tokens`.
    ///   - maxOutputTokens: cap on the token limit of every request (nil: the request's own).
    ///   - outputModes: where the negotiated output mode is remembered; the process-wide memory by default.
    public init(
        endpoint: OpenAIEndpoint, auth: ModelAuth, model: String, maxTokensField: String = "max_tokens",
        maxOutputTokens: Int? = nil, transport: any HTTPTransport = AsyncHTTPTransport.shared, retry: RetryPolicy = RetryPolicy(),
        timeout: TimeInterval = 120, logger: Logger = Logger(label: "ModelClients.chat"),
        outputModes: StructuredOutputMemory = .shared
    ) {
        self.endpoint = endpoint
        self.auth = auth
        self.model = model
        self.maxTokensField = maxTokensField
        self.maxOutputTokens = maxOutputTokens
        self.outputModes = outputModes
        self.http = RetryingHTTPClient(provider: endpoint.describe(model: model), transport: transport,
                                       retry: retry, timeout: timeout, logger: logger)
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let schema: Any
        do {
            schema = try JSONSerialization.jsonObject(with: request.jsonSchema)
        } catch {
            throw ModelClientError.rejected(provider: http.provider, status: 0,
                                            detail: "the request's JSON schema '\(request.schemaName)' is not valid JSON")
        }
        var mode = await outputModes.mode(for: http.provider)
        while true {
            do {
                return try await send(request, schema: schema, mode: mode)
            } catch let rejection as ResponseFormatRejected {
                // send throws this only for modes that have a fallback.
                guard let next = mode.fallback else { throw rejection.error }
                if await outputModes.downgrade(http.provider, from: mode, to: next) {
                    http.logger.warning(
                        "chat server rejects \(mode) structured output; this model uses \(next) from now on", metadata: [
                            "provider": "\(http.provider)", "status": "\(rejection.status)",
                            "error": "\(rejection.message.prefix(300))",
                        ])
                }
                mode = next
            }
        }
    }

    /// Thrown internally when the server refuses the requested `response_format`, to trigger the fallback.
    private struct ResponseFormatRejected: Error {
        var status: Int
        var message: String
        var error: ModelClientError
    }

    private func send(_ request: ChatRequest, schema: Any, mode: StructuredOutputMode) async throws -> ChatResponse {
        var messages: [[String: Any]] = request.messages.map { ["role": $0.role.rawValue, "content": $0.content] }
        var body: [String: Any] = ["temperature": request.temperature]
        switch mode {
        case .jsonSchema:
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": request.schemaName, "schema": schema, "strict": true] as [String: Any],
            ] as [String: Any]
        case .jsonObjectWithSchema:
            body["response_format"] = ["type": "json_object", "schema": schema] as [String: Any]
        case .jsonObject:
            body["response_format"] = ["type": "json_object"]
        case .promptOnly:
            break
        }
        if mode != .jsonSchema {
            // Appended to the first system message rather than sent as a second one: the chat templates of
            // many local models (Gemma, Mistral, Llama 2) accept one system message, first, or none.
            let instruction = "Reply with one JSON object only, no other text. It must match this JSON schema:\n"
                + String(decoding: request.jsonSchema, as: UTF8.self)
            if messages.first?["role"] as? String == "system", let text = messages[0]["content"] as? String {
                messages[0]["content"] = text + "\n\n" + instruction
            } else {
                messages.insert(["role": "system", "content": instruction], at: 0)
            }
        }
        body["messages"] = messages
        if let maxTokens = Self.tokenLimit(requested: request.maxTokens, cap: maxOutputTokens) {
            body[maxTokensField] = maxTokens
        }
        if endpoint.modelInBody { body["model"] = model }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])

        let auth = self.auth
        let canFallBack = mode.fallback != nil
        let response = try await http.postJSON(
            url: endpoint.url(.chatCompletions), body: data,
            isFinal: { canFallBack && ResponseFormatRejection.isRejection($0) }
        ) {
            try await auth.headers()
        }
        guard (200..<300).contains(response.status) else {
            let error = OpenAIErrorMapping.error(for: response, provider: http.provider)
            if canFallBack, ResponseFormatRejection.isRejection(response) {
                throw ResponseFormatRejected(
                    status: response.status,
                    message: OpenAIErrorBody.message(in: response.body) ?? "HTTP \(response.status)", error: error)
            }
            throw error
        }
        return try decode(response, request: request, mode: mode)
    }

    /// The token limit sent: the request's, lowered to the client's cap.
    static func tokenLimit(requested: Int?, cap: Int?) -> Int? {
        switch (requested, cap) {
        case let (requested?, cap?): return min(requested, cap)
        case let (requested, cap): return requested ?? cap
        }
    }

    private struct CompletionResponse: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
                var refusal: String?
            }
            var finish_reason: String?
            var message: Message?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int?
            var completion_tokens: Int?
        }
        var choices: [Choice]
        var usage: Usage?
    }

    private func decode(_ response: HTTPResponse, request: ChatRequest, mode: StructuredOutputMode) throws
        -> ChatResponse
    {
        let provider = http.provider
        let decoded: CompletionResponse
        do {
            decoded = try JSONDecoder().decode(CompletionResponse.self, from: response.body)
        } catch {
            throw ModelClientError.malformedResponse(
                provider: provider,
                detail: "chat response is not the expected JSON (\(error)); body starts: \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        guard let choice = decoded.choices.first else {
            throw ModelClientError.malformedResponse(provider: provider, detail: "chat response has no choices")
        }
        let usage = TokenUsage(promptTokens: decoded.usage?.prompt_tokens ?? 0,
                               completionTokens: decoded.usage?.completion_tokens ?? 0)
        if choice.finish_reason == "content_filter" {
            throw ModelClientError.refused(provider: provider, detail: "the output was stopped by the content filter (finish_reason content_filter)")
        }
        if let refusal = choice.message?.refusal, !refusal.isEmpty {
            throw ModelClientError.refused(provider: provider, detail: "the model refused: \(refusal)")
        }
        guard let content = choice.message?.content else {
            throw ModelClientError.malformedResponse(provider: provider, detail: "chat response has no message content")
        }
        // A complete object followed by rambling cut at the limit is usable; a cut-off object is not.
        let limit = Self.tokenLimit(requested: request.maxTokens, cap: maxOutputTokens)
        guard let json = JSONAnswerText.object(in: content) else {
            if choice.finish_reason == "length" {
                throw ModelClientError.malformedResponse(
                    provider: provider,
                    detail: "the answer was cut at the token limit (finish_reason length, max tokens \(limit.map(String.init) ?? "default")) before its JSON object closed; raise the limit (MEMORY_CHAT_MAX_TOKENS) or use a model that answers more briefly")
            }
            throw ModelClientError.malformedResponse(
                provider: provider,
                detail: "the answer is not a JSON object and holds none (\(content.count) characters, output mode \(mode))")
        }
        return ChatResponse(content: json, usage: usage, finishReason: choice.finish_reason, outputMode: mode)
    }
}
