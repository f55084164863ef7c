import Foundation
import Logging
import OutgoingHTTP

/// A ``ChatModel`` over the OpenAI chat completions API: Azure OpenAI (both URL styles) and
/// OpenAI-compatible servers.
///
/// Asks for structured output (`response_format: json_schema`, strict). A server that rejects that with a 400
/// mentioning `response_format`/`json_schema` (older Azure api-versions, some local servers) is asked again in
/// `json_object` mode with the schema spelled out in a system message, and later calls go straight to
/// `json_object`. The answer is checked: a content filter or a refusal is ``ModelClientError/refused(provider:detail:)``,
/// output cut at the token limit or content that is not JSON is ``ModelClientError/malformedResponse(provider:detail:)``.
public struct OpenAIChatClient: ChatModel {
    public let model: String
    public let endpoint: OpenAIEndpoint
    /// Name of the token-limit field: `max_tokens`, or `max_completion_tokens` for reasoning models.
    public let maxTokensField: String
    private let auth: ModelAuth
    private let http: RetryingHTTPClient
    private let formatMemory = ResponseFormatMemory()

    /// - Parameters:
    ///   - model: the model name sent in the body (Azure v1: the deployment name); for Azure deployment URLs
    ///     only a label.
    ///   - maxTokensField: `max_tokens` (default) or `max_completion_tokens`.
    public init(
        endpoint: OpenAIEndpoint, auth: ModelAuth, model: String, maxTokensField: String = "max_tokens",
        transport: any HTTPTransport = AsyncHTTPTransport.shared, retry: RetryPolicy = RetryPolicy(),
        timeout: TimeInterval = 120, logger: Logger = Logger(label: "ModelClients.chat")
    ) {
        self.endpoint = endpoint
        self.auth = auth
        self.model = model
        self.maxTokensField = maxTokensField
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
        if await formatMemory.jsonSchemaUnsupported {
            return try await send(request, schema: schema, mode: .jsonObject)
        }
        do {
            return try await send(request, schema: schema, mode: .jsonSchema)
        } catch let rejection as ResponseFormatRejected {
            http.logger.warning("server rejects json_schema output; falling back to json_object mode", metadata: [
                "provider": "\(http.provider)", "error": "\(rejection.message)",
            ])
            await formatMemory.markJSONSchemaUnsupported()
            return try await send(request, schema: schema, mode: .jsonObject)
        }
    }

    private enum OutputMode { case jsonSchema, jsonObject }

    /// Thrown internally when the server refuses `json_schema`, to trigger the fallback.
    private struct ResponseFormatRejected: Error { var message: String }

    private func send(_ request: ChatRequest, schema: Any, mode: OutputMode) async throws -> ChatResponse {
        var messages: [[String: Any]] = request.messages.map { ["role": $0.role.rawValue, "content": $0.content] }
        var body: [String: Any] = ["temperature": request.temperature]
        switch mode {
        case .jsonSchema:
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": request.schemaName, "schema": schema, "strict": true] as [String: Any],
            ] as [String: Any]
        case .jsonObject:
            body["response_format"] = ["type": "json_object"]
            let schemaText = String(decoding: request.jsonSchema, as: UTF8.self)
            messages.insert(["role": "system", "content":
                "Reply with one JSON object only, no other text. It must match this JSON schema:\n\(schemaText)"],
                            at: messages.firstIndex { ($0["role"] as? String) != "system" } ?? messages.count)
        }
        body["messages"] = messages
        if let maxTokens = request.maxTokens { body[maxTokensField] = maxTokens }
        if endpoint.modelInBody { body["model"] = model }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])

        let auth = self.auth
        let response = try await http.postJSON(url: endpoint.url(.chatCompletions), body: data) {
            try await auth.headers()
        }
        guard (200..<300).contains(response.status) else {
            if mode == .jsonSchema, Self.rejectsJSONSchema(response) {
                throw ResponseFormatRejected(message: OpenAIErrorBody.message(in: response.body) ?? "HTTP 400")
            }
            throw OpenAIErrorMapping.error(for: response, provider: http.provider)
        }
        return try decode(response, request: request)
    }

    /// A 400 (or 422) that complains about `response_format` / `json_schema` rather than the prompt.
    private static func rejectsJSONSchema(_ response: HTTPResponse) -> Bool {
        guard response.status == 400 || response.status == 422 else { return false }
        let body = OpenAIErrorBody(response.body)
        if body?.code == "content_filter" { return false }
        let text = [body?.message, body?.param].compactMap { $0 }.joined(separator: " ").lowercased()
        let raw = text.isEmpty ? String(decoding: response.body.prefix(2000), as: UTF8.self).lowercased() : text
        return raw.contains("response_format") || raw.contains("json_schema")
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

    private func decode(_ response: HTTPResponse, request: ChatRequest) throws -> ChatResponse {
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
        if choice.finish_reason == "length" {
            throw ModelClientError.malformedResponse(
                provider: provider,
                detail: "the answer was cut at the token limit (finish_reason length, max tokens \(request.maxTokens.map(String.init) ?? "default")), so its JSON is incomplete")
        }
        guard let content = choice.message?.content else {
            throw ModelClientError.malformedResponse(provider: provider, detail: "chat response has no message content")
        }
        guard let json = content.data(using: .utf8),
              (try? JSONSerialization.jsonObject(with: json)) is [String: Any] else {
            throw ModelClientError.malformedResponse(
                provider: provider, detail: "the answer is not a JSON object: \(content.prefix(200))")
        }
        return ChatResponse(content: content, usage: usage, finishReason: choice.finish_reason)
    }
}

/// Remembers, per client, that the server does not accept `json_schema` output, so the fallback costs one
/// extra request once rather than on every call.
private actor ResponseFormatMemory {
    private(set) var jsonSchemaUnsupported = false
    func markJSONSchemaUnsupported() { jsonSchemaUnsupported = true }
}
