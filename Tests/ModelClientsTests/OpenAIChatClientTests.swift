import Foundation
import Testing
import TestSupport
@testable import ModelClients

/// The chat client against the scripted OpenAI-compatible server on loopback.
@Suite struct OpenAIChatClientTests {
    static let schema = Data("""
        {"type":"object","properties":{"facts":{"type":"array","items":{"type":"string"}}},
         "required":["facts"],"additionalProperties":false}
        """.utf8)

    func request(maxTokens: Int? = 300) -> ChatRequest {
        ChatRequest(messages: [ChatMessage(role: .system, content: "Extract memory facts."),
                               ChatMessage(role: .user, content: "I moved to Berlin in May.")],
                    schemaName: "facts", jsonSchema: Self.schema, maxTokens: maxTokens)
    }

    /// A client with its own output-mode memory, so a downgrade here never leaks into another test.
    func azureClient(_ server: ScriptedModelServer, retry: RetryPolicy = .none) -> OpenAIChatClient {
        OpenAIChatClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "gpt-4o-mini", apiVersion: "2024-10-21"),
            auth: .apiKey("chat-key"), model: "gpt-4o-mini", retry: retry, outputModes: StructuredOutputMemory())
    }

    @Test func structuredOutputRequestShapeAndUsage() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(
            expect: ["style": "azure-deployment", "deployment": "gpt-4o-mini", "api_version": "2024-10-21",
                     "auth": ["api-key": "chat-key"]],
            [chatEntry(#"{"facts":["Lives in Berlin since May 2026"]}"#, prompt: 33, completion: 12)])
        let response = try await azureClient(server).complete(request())
        #expect(response.content == #"{"facts":["Lives in Berlin since May 2026"]}"#)
        #expect(response.usage == TokenUsage(promptTokens: 33, completionTokens: 12))
        #expect(response.usage.totalTokens == 45)
        #expect(response.finishReason == "stop")

        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(seen.path(0) == "/openai/deployments/gpt-4o-mini/chat/completions")
        let body = seen.body(0)
        #expect(body["temperature"] as? Double == 0)
        #expect(body["max_tokens"] as? Int == 300)
        #expect(body["model"] == nil)
        let format = body["response_format"] as? [String: Any]
        #expect(format?["type"] as? String == "json_schema")
        let jsonSchema = format?["json_schema"] as? [String: Any]
        #expect(jsonSchema?["name"] as? String == "facts")
        #expect(jsonSchema?["strict"] as? Bool == true)
        #expect((jsonSchema?["schema"] as? [String: Any])?["required"] as? [String] == ["facts"])
        let messages = body["messages"] as? [[String: String]]
        #expect(messages?.map { $0["role"] ?? "" } == ["system", "user"])
    }

    @Test func openAICompatibleChatUsesBearerModelAndMaxCompletionTokens() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["style": "openai", "model": "llama3.1", "auth": ["authorization": "Bearer sk-local"]],
                                [chatEntry(#"{"facts":[]}"#)])
        let client = OpenAIChatClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")),
            auth: .bearer(StaticBearerToken("sk-local")), model: "llama3.1", maxTokensField: "max_completion_tokens",
            retry: .none)
        _ = try await client.complete(request(maxTokens: 50))
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(seen.body(0)["max_completion_tokens"] as? Int == 50)
        #expect(seen.body(0)["max_tokens"] == nil)
    }

    @Test func rejectedJSONSchemaFallsBackToJSONObjectAndRemembersIt() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 400, "json": ["error": ["code": "BadRequest", "message":
                "response_format value as json_schema is enabled only for api versions 2024-08-01-preview and later"]]],
            chatEntry(#"{"facts":["a"]}"#),
            chatEntry(#"{"facts":["b"]}"#),
        ])
        let client = azureClient(server)
        #expect(try await client.complete(request()).content == #"{"facts":["a"]}"#)
        #expect(try await client.complete(request()).content == #"{"facts":["b"]}"#)
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        let types = (0..<seen.requests.count).map {
            (seen.body($0)["response_format"] as? [String: Any])?["type"] as? String ?? "-"
        }
        #expect(types == ["json_schema", "json_object", "json_object"])
        #expect((seen.body(1)["response_format"] as? [String: Any])?["schema"] is [String: Any])
        let fallbackMessages = seen.body(1)["messages"] as? [[String: String]] ?? []
        #expect(fallbackMessages.map { $0["role"] ?? "" } == ["system", "user"])
        #expect(fallbackMessages[0]["content"]?.hasPrefix("Extract memory facts.") == true)
        #expect(fallbackMessages[0]["content"]?.contains("JSON schema") == true)
        #expect(fallbackMessages[0]["content"]?.contains(#""facts""#) == true)
    }

    @Test func contentFilterErrorsAndFilteredOutputAreRefusals() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 400, "json": ["error": [
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                "type": NSNull(), "param": "prompt", "code": "content_filter", "status": 400,
                "innererror": ["code": "ResponsibleAIPolicyViolation",
                               "content_filter_result": ["hate": ["filtered": true, "severity": "medium"]]]]]],
            chatEntry(nil, finishReason: "content_filter"),
        ])
        let client = azureClient(server, retry: SleepRecorder().policy())
        for expected in ["content management policy", "finish_reason content_filter"] {
            do {
                _ = try await client.complete(request())
                Issue.record("expected refused")
            } catch let ModelClientError.refused(_, detail) {
                #expect(detail.contains(expected))
            }
        }
        #expect(try await server.recorded().requests.count == 2)
    }

    @Test func aRefusalIsRefused() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([chatEntry(nil, refusal: "I'm sorry, I can't help with that.")])
        do {
            _ = try await azureClient(server).complete(request())
            Issue.record("expected refused")
        } catch let ModelClientError.refused(_, detail) {
            #expect(detail.contains("can't help"))
        }
    }

    @Test func truncatedAndNonJSONAnswersAreMalformed() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            chatEntry(#"{"facts":["Lives in Ber"#, finishReason: "length"),
            chatEntry("Sure! Here are the facts: Berlin."),
            ["status": 200, "raw": #"{"choices": [{"message": "#],
            ["status": 200, "json": ["choices": [] as [Any]]],
        ])
        let client = azureClient(server)
        for expected in ["cut at the token limit", "not a JSON object", "not the expected JSON", "no choices"] {
            do {
                _ = try await client.complete(request())
                Issue.record("expected malformed (\(expected))")
            } catch let ModelClientError.malformedResponse(_, detail) {
                #expect(detail.contains(expected))
            }
        }
    }

    /// A CPU-served model sends nothing until its answer is ready; the per-attempt timeout, not the URL
    /// session's 60-second idle default, decides how long that may take.
    @Test func anAnswerSlowerThanAMinuteIsAwaitedWithinTheChatTimeout() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        var slow = chatEntry(#"{"facts":["slow"]}"#)
        slow["delay"] = 63
        try await server.script([slow])
        let client = OpenAIChatClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            model: "cpu-model", retry: .none, timeout: 120, outputModes: StructuredOutputMemory())
        let started = Date()
        #expect(try await client.complete(request()).content == #"{"facts":["slow"]}"#)
        #expect(Date().timeIntervalSince(started) >= 63)
    }

    @Test func throttledChatIsRetriedAndSucceeds() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 429, "headers": ["retry-after-ms": "250"], "json": ["error": ["code": "429", "message": "slow down"]]],
            ["status": 504, "json": ["error": ["message": "gateway timeout"]]],
            chatEntry(#"{"facts":[]}"#, prompt: 5, completion: 3),
        ])
        let sleeps = SleepRecorder()
        let response = try await azureClient(server, retry: sleeps.policy()).complete(request())
        #expect(response.usage.totalTokens == 8)
        #expect(await sleeps.waits == [0.25, 0.75])
    }
}
