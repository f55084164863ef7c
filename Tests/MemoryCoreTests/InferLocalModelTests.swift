import Foundation
import Logging
import ModelClients
import Testing
import TestSupport
@testable import MemoryCore

/// The infer pipeline against servers that behave like locally served models: no `json_schema` support,
/// answers wrapped in prose or code fences, ids as numbers, values of the wrong kind.
@Suite struct InferLocalModelTests {
    let berlin = ExistingMemory(id: UUID(), text: "Lives in Berlin")
    let tea = ExistingMemory(id: UUID(), text: "Likes black tea")

    /// llama-cpp-python's 500 for `json_schema`, and a 400 for `json_object` (servers that know neither).
    static var llamaCpp500: [String: Any] { ["status": 500, "json": ["error": [
        "message": "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or 'json_object'",
        "type": "internal_server_error"]]] }
    static var noJSONObject: [String: Any] { ["status": 400, "json": ["error": ["message": "response_format is not supported"]]] }

    func pipeline(_ server: ScriptedModelServer) -> InferPipeline {
        let chat = OpenAIChatClient(endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")),
                                    auth: .none, model: "local", retry: .none, outputModes: StructuredOutputMemory())
        return InferPipeline(chat: chat, logger: Logger(label: "test.infer.local"))
    }

    func input(_ text: String) -> InferInput {
        InferInput(messages: [InputMessage(role: "user", content: text)], messageTime: Date(timeIntervalSince1970: 1_795_600_800))
    }

    @Test func aLlamaCppServerGetsBothCallsInJSONObjectModeWithTheSchema() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["reject_formats": ["json_schema": Self.llamaCpp500]], [
            chatEntry(#"{"facts": ["Lives in Munich"]}"#, prompt: 90, completion: 9),
            chatEntry(#"{"decisions": [{"event": "UPDATE", "id": "0", "text": "Lives in Munich"}]}"#, prompt: 120, completion: 20),
        ])
        let plan = try await pipeline(server).plan(input("I moved to Munich.")) { _ in [berlin] }
        #expect(plan.actions == [.update(id: berlin.id, text: "Lives in Munich")])
        #expect(plan.usage == TokenUsage(promptTokens: 210, completionTokens: 29))
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        let formats = (0..<seen.requests.count).map {
            (seen.body($0)["response_format"] as? [String: Any]).map { ($0["type"] as? String ?? "?") + ($0["schema"] != nil ? "+schema" : "") } ?? "none"
        }
        // The rejection costs one request, once: the decision call starts in the negotiated mode.
        #expect(formats == ["json_schema", "json_object+schema", "json_object+schema"])
    }

    @Test func promptOnlyAnswersInProseAndFencesAreRepairedAndApplied() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["reject_formats": [
            "json_schema": Self.llamaCpp500, "json_object+schema": Self.noJSONObject, "json_object": Self.noJSONObject,
        ]], [
            chatEntry("Here are the facts:\n```json\n{\"facts\": [\"Likes green tea\", \"Has a dog\"]}\n```"),
            chatEntry(#"Decisions: {"decisions": [{"event": "update", "id": 1, "text": "Likes green tea"}, {"event": "ADD", "text": "Has a dog"}, {"event": "DELETE", "id": 9}]}"#),
        ])
        let plan = try await pipeline(server).plan(input("I switched to green tea. I got a dog.")) { _ in [berlin, tea] }
        // id 1 (a number) is the tea memory; id 9 was never shown and is ignored.
        #expect(plan.actions == [.update(id: tea.id, text: "Likes green tea"), .add(text: "Has a dog")])
        #expect(try await server.recorded().violations == [])
    }

    @Test func oneDecisionOfTheWrongKindRejectsTheWholeAnswer() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            chatEntry(#"{"facts": ["Likes green tea", "Has a dog"]}"#),
            chatEntry(#"{"decisions": [{"event": "ADD", "id": "", "text": "Has a dog"}, {"event": "UPDATE", "id": "1", "text": 42}]}"#),
        ])
        let error = await #expect(throws: InferError.self) {
            try await pipeline(server).plan(input("I switched to green tea. I got a dog.")) { _ in [berlin, tea] }
        }
        guard case .malformedAnswer(.decision, let detail)? = error else {
            Issue.record("expected malformedAnswer(decision), got \(String(describing: error))")
            return
        }
        #expect(detail == "answer.decisions[1].text is a number, not a string")
    }

    @Test func anAddMakesAtMostTwoModelCalls() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        let manyFacts = (0..<30).map { "Fact number \($0)" }
        try await server.script([
            ["chat_json": ["facts": manyFacts]],
            ["chat_json": ["decisions": manyFacts.map { ["event": "ADD", "id": "", "text": $0] }]],
        ])
        let existing = (0..<60).map { ExistingMemory(id: UUID(), text: "Memory \($0)") }
        let plan = try await pipeline(server).plan(input("Many things.")) { _ in existing }
        #expect(plan.actions.count == 30)
        let seen = try await server.recorded()
        #expect(seen.requests.count == 2)
        // At most 50 existing memories are shown to the decision call.
        #expect(String(describing: seen.body(1)["messages"] ?? "").contains("Memory 49"))
        #expect(!String(describing: seen.body(1)["messages"] ?? "").contains("Memory 50"))
    }
}
