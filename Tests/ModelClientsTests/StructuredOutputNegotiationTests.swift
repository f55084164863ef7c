import Foundation
import Testing
import TestSupport
@testable import ModelClients

/// How the chat client negotiates structured output with servers that cannot do `json_schema`, against the
/// scripted server taught to reject output modes the way real servers do.
@Suite struct StructuredOutputNegotiationTests {
    static let schema = Data(#"{"type":"object","properties":{"facts":{"type":"array","items":{"type":"string"}}},"required":["facts"],"additionalProperties":false}"#.utf8)

    /// llama-cpp-python's answer to `response_format: {"type": "json_schema"}`: a pydantic validation error
    /// wrapped as HTTP 500 by its error route handler.
    static var llamaCppRejection: [String: Any] { ["status": 500, "json": ["error": [
        "message": "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]",
        "type": "internal_server_error", "param": NSNull(), "code": NSNull()]]] }

    func request() -> ChatRequest {
        ChatRequest(messages: [ChatMessage(role: .system, content: "Extract memory facts."),
                               ChatMessage(role: .user, content: "I moved to Berlin in May.")],
                    schemaName: "facts", jsonSchema: Self.schema, maxTokens: 200)
    }

    func client(_ server: ScriptedModelServer, model: String = "gemma3-270m", memory: StructuredOutputMemory,
                retry: RetryPolicy = .none) -> OpenAIChatClient {
        OpenAIChatClient(endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")),
                         auth: .none, model: model, retry: retry, outputModes: memory)
    }

    /// The structured-output kind of each recorded request, in the scripted server's names.
    func kinds(_ seen: ScriptedModelServer.Recorded) -> [String] {
        (0..<seen.requests.count).map { index in
            guard let format = seen.body(index)["response_format"] as? [String: Any] else { return "none" }
            let type = format["type"] as? String ?? "?"
            return type == "json_object" && format["schema"] != nil ? "json_object+schema" : type
        }
    }

    @Test func aLlamaCppStyle500IsNotRetriedButAnsweredInJSONObjectModeWithTheSchema() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["style": "openai", "model": "gemma3-270m", "auth": "none",
                                         "reject_formats": ["json_schema": Self.llamaCppRejection]],
                                [chatEntry(#"{"facts":["Lives in Berlin"]}"#), chatEntry(#"{"facts":[]}"#)])
        let sleeps = SleepRecorder()
        let memory = StructuredOutputMemory()
        let chat = client(server, memory: memory, retry: sleeps.policy())

        let first = try await chat.complete(request())
        #expect(first.content == #"{"facts":["Lives in Berlin"]}"#)
        #expect(first.outputMode == .jsonObjectWithSchema)
        #expect(await sleeps.waits == [], "a 500 naming response_format must not be retried")
        let second = try await chat.complete(request())
        #expect(second.outputMode == .jsonObjectWithSchema)

        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(kinds(seen) == ["json_schema", "json_object+schema", "json_object+schema"])
        let format = seen.body(1)["response_format"] as? [String: Any]
        #expect((format?["schema"] as? [String: Any])?["required"] as? [String] == ["facts"])
        // One system message (local chat templates often allow no second one), the schema at its end.
        let messages = seen.body(1)["messages"] as? [[String: String]] ?? []
        #expect(messages.map { $0["role"] ?? "" } == ["system", "user"])
        #expect(messages[0]["content"]?.hasPrefix("Extract memory facts.") == true)
        #expect(messages[0]["content"]?.hasSuffix(String(decoding: Self.schema, as: UTF8.self)) == true)
        #expect(await memory.mode(for: chat.endpoint.describe(model: chat.model)) == .jsonObjectWithSchema)
    }

    @Test func everyRejectedModeStepsDownOnceToPromptOnlyAndTheJSONIsTakenOutOfTheText() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["reject_formats": [
            "json_schema": ["status": 400, "json": ["error": ["message": "Unsupported parameter: 'response_format.json_schema'"]]],
            "json_object+schema": ["status": 422, "json": ["detail": [["loc": ["body", "response_format", "schema"],
                                                                        "msg": "extra fields not permitted"]]]],
            "json_object": Self.llamaCppRejection,
        ]], [
            chatEntry("Sure! Here is what I found:\n```json\n{\"facts\": [\"Lives in Berlin\"]}\n```\nAnything else?"),
            chatEntry(#"Facts: {"facts": ["Moved in May"]} (done)"#),
        ])
        let memory = StructuredOutputMemory()
        let chat = client(server, memory: memory, retry: SleepRecorder().policy())
        let first = try await chat.complete(request())
        #expect(first.content == #"{"facts": ["Lives in Berlin"]}"#)
        #expect(first.outputMode == .promptOnly)
        let second = try await chat.complete(request())
        #expect(second.content == #"{"facts": ["Moved in May"]}"#)

        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(kinds(seen) == ["json_schema", "json_object+schema", "json_object", "none", "none"])
        let promptOnlyMessages = seen.body(3)["messages"] as? [[String: String]] ?? []
        #expect(promptOnlyMessages.count == 2)
        #expect(promptOnlyMessages[0]["content"]?.contains("JSON schema") == true)
    }

    @Test func theNegotiatedModeIsRememberedPerModelAcrossClients() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["reject_formats": ["json_schema": Self.llamaCppRejection]],
                                [chatEntry(#"{"facts":[]}"#), chatEntry(#"{"facts":[]}"#), chatEntry(#"{"facts":[]}"#)])
        let memory = StructuredOutputMemory()
        _ = try await client(server, memory: memory).complete(request())
        _ = try await client(server, memory: memory).complete(request())
        try await server.script(expect: [:], [])
        _ = try await client(server, model: "another-model", memory: memory).complete(request())
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(kinds(seen) == ["json_schema", "json_object+schema", "json_object+schema", "json_schema"])
    }

    @Test func aServerErrorThatIsNotAboutTheFormatIsRetriedWithoutDowngrading() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 500, "json": ["error": ["message": "CUDA error: out of memory", "type": "internal_server_error"]]],
            chatEntry(#"{"facts":["a"]}"#),
        ])
        let sleeps = SleepRecorder()
        let response = try await client(server, memory: StructuredOutputMemory(), retry: sleeps.policy())
            .complete(request())
        #expect(response.outputMode == .jsonSchema)
        #expect(await sleeps.waits.count == 1)
        #expect(kinds(try await server.recorded()) == ["json_schema", "json_schema"])
    }

    @Test func aServerThatRejectsEveryFormatEndsWithAClearError() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        let refuse: [String: Any] = ["status": 400, "json": ["error": ["message": "response_format is not supported"]]]
        let broken: [String: Any] = ["status": 400, "json": ["error": ["message": "the prompt template needs a json schema"]]]
        try await server.script(expect: ["reject_formats": [
            "json_schema": refuse, "json_object+schema": refuse, "json_object": refuse, "none": broken,
        ]], [])
        do {
            _ = try await client(server, memory: StructuredOutputMemory()).complete(request())
            Issue.record("expected rejected")
        } catch let ModelClientError.rejected(_, status, detail) {
            #expect(status == 400)
            #expect(detail.contains("prompt template"))
        }
        #expect(kinds(try await server.recorded()) == ["json_schema", "json_object+schema", "json_object", "none"])
    }

    @Test func credentialAndContentFilterErrorsNeverTriggerAFallback() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 401, "json": ["error": ["message": "invalid api key for response_format requests"]]],
            ["status": 400, "json": ["error": ["code": "content_filter", "message": "filtered (json_schema output)"]]],
        ])
        let chat = client(server, memory: StructuredOutputMemory())
        await #expect(throws: ModelClientError.self) { try await chat.complete(request()) }
        await #expect(throws: ModelClientError.self) { try await chat.complete(request()) }
        #expect(kinds(try await server.recorded()) == ["json_schema", "json_schema"])
    }

    @Test func theMemoryOnlyStepsDownAndReportsEachDowngradeOnce() async {
        let memory = StructuredOutputMemory()
        #expect(await memory.mode(for: "m") == .jsonSchema)
        #expect(await memory.downgrade("m", from: .jsonSchema, to: .jsonObjectWithSchema))
        #expect(await memory.downgrade("m", from: .jsonSchema, to: .jsonObjectWithSchema) == false)
        #expect(await memory.downgrade("m", from: .jsonObjectWithSchema, to: .jsonObject))
        #expect(await memory.downgrade("m", from: .jsonSchema, to: .jsonObjectWithSchema) == false)
        #expect(await memory.mode(for: "m") == .jsonObject)
        #expect(await memory.mode(for: "other") == .jsonSchema)
        #expect(StructuredOutputMode.promptOnly.fallback == nil)
    }
}
