import Foundation
import Logging
import ModelClients
import Testing
import TestSupport
@testable import MemoryCore

/// The infer pipeline through the real chat client against the scripted OpenAI-compatible server.
@Suite struct InferPipelineTests {
    let monthly = ExistingMemory(id: UUID(), text: "Prefers monthly invoices")
    let berlin = ExistingMemory(id: UUID(), text: "Lives in Berlin")
    let dog = ExistingMemory(id: UUID(), text: "Has a dog named Rex")
    /// 2026-11-25T10:00:00Z, a Wednesday.
    let messageTime = Date(timeIntervalSince1970: 1_795_600_800)

    func pipeline(_ server: ScriptedModelServer) -> InferPipeline {
        let chat = OpenAIChatClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "gpt-4o-mini", apiVersion: "2024-10-21"),
            auth: .apiKey("k"), model: "gpt-4o-mini", retry: .none)
        return InferPipeline(chat: chat, logger: Logger(label: "test.infer"))
    }

    func input(_ text: String, includes: String? = nil, excludes: String? = nil, custom: String? = nil) -> InferInput {
        InferInput(messages: [InputMessage(role: "user", content: text),
                              InputMessage(role: "assistant", content: "Noted.")],
                   messageTime: messageTime, customInstructions: custom, includes: includes, excludes: excludes)
    }

    func facts(_ facts: [String], prompt: Int = 100, completion: Int = 20) -> [String: Any] {
        ["chat_json": ["facts": facts], "usage": ["prompt_tokens": prompt, "completion_tokens": completion]]
    }

    func decisions(_ decisions: [[String: String]]) -> [String: Any] {
        ["chat_json": ["decisions": decisions], "usage": ["prompt_tokens": 200, "completion_tokens": 30]]
    }

    /// The content of message `index` of recorded request `request`.
    func message(_ seen: ScriptedModelServer.Recorded, _ request: Int, _ index: Int) -> String {
        let messages = seen.body(request)["messages"] as? [[String: String]] ?? []
        return messages.indices.contains(index) ? messages[index]["content"] ?? "" : ""
    }

    @Test func aNewFactIsAddedAndTheModelSeesOnlyTemporaryIds() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["style": "azure-deployment", "auth": ["api-key": "k"]], [
            facts(["Prefers dark mode"]),
            decisions([["event": "ADD", "id": "", "text": "Prefers dark mode"]]),
        ])
        let existing = [monthly, berlin]
        let plan = try await pipeline(server).plan(input("Please always use dark mode.")) { facts in
            #expect(facts == ["Prefers dark mode"])
            return existing
        }
        #expect(plan.actions == [.add(text: "Prefers dark mode")])
        #expect(plan.facts == ["Prefers dark mode"])
        #expect(plan.usage == TokenUsage(promptTokens: 300, completionTokens: 50))

        let seen = try await server.recorded()
        #expect(seen.violations == [] && seen.requests.count == 2)
        let decisionPayload = message(seen, 1, 1)
        #expect(decisionPayload.contains("\"id\" : \"0\"") && decisionPayload.contains("\"id\" : \"1\""))
        #expect(decisionPayload.contains("Prefers monthly invoices") && decisionPayload.contains("Prefers dark mode"))
        for memory in existing {
            let bodies = seen.requests.map { String(describing: $0["body"] ?? "") }
            #expect(!bodies.contains { $0.contains(memory.id.uuidString) })
        }
        let schemaNames = (0..<2).map {
            ((seen.body($0)["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String
        }
        #expect(schemaNames == ["memory_facts", "memory_decisions"])
    }

    @Test func aContradictionUpdatesTheRightMemory() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            facts(["Prefers weekly invoices"]),
            decisions([["event": "UPDATE", "id": "1", "text": "Prefers weekly invoices"]]),
        ])
        let plan = try await pipeline(server).plan(input("Actually, send invoices weekly from now on.")) { _ in
            [berlin, monthly]
        }
        #expect(plan.actions == [.update(id: monthly.id, text: "Prefers weekly invoices")])
    }

    @Test func aRetractionDeletesTheMemory() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            facts(["No longer has a dog"]),
            decisions([["event": "DELETE", "id": "0", "text": ""]]),
        ])
        let plan = try await pipeline(server).plan(input("Rex went to live with my sister, I don't have a dog anymore.")) { _ in
            [dog, berlin]
        }
        #expect(plan.actions == [.delete(id: dog.id)])
    }

    @Test func aDuplicateChangesNothing() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            facts(["Is based in Berlin"]),
            decisions([["event": "NONE", "id": "0", "text": ""]]),
        ])
        let plan = try await pipeline(server).plan(input("I'm in Berlin, as you know.")) { _ in [berlin] }
        #expect(plan.actions == [])
        #expect(plan.usage.totalTokens == 350)
    }

    @Test func hallucinatedIdsAreIgnoredAndEachMemoryChangesOnce() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            facts(["Prefers weekly invoices", "Moved to Munich", "Likes tea"]),
            decisions([
                ["event": "UPDATE", "id": "7", "text": "Prefers weekly invoices"],
                ["event": "DELETE", "id": monthly.id.uuidString, "text": ""],
                ["event": "UPDATE", "id": "01", "text": "Lives in Munich"],
                ["event": "UPDATE", "id": "1", "text": "Lives in Munich"],
                ["event": "DELETE", "id": "1", "text": ""],
                ["event": "ADD", "id": "", "text": "Likes tea"],
            ]),
        ])
        let plan = try await pipeline(server).plan(input("Weekly invoices please. I moved to Munich. I like tea.")) { _ in
            [monthly, berlin]
        }
        #expect(plan.actions == [.update(id: berlin.id, text: "Lives in Munich"), .add(text: "Likes tea")])
    }

    @Test func anEmptyExtractionMakesAnEmptyPlanWithoutASecondCall() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([facts([], prompt: 40, completion: 4)])
        let lookups = LookupCounter()
        let plan = try await pipeline(server).plan(input("Hi! How are you?")) { _ in
            await lookups.increment()
            return [berlin]
        }
        #expect(plan.actions == [] && plan.facts == [])
        #expect(plan.usage == TokenUsage(promptTokens: 40, completionTokens: 4))
        #expect(await lookups.count == 0)
        #expect(try await server.recorded().requests.count == 1)
    }

    @Test func withoutRelatedMemoriesEveryFactIsAddedWithoutADecisionCall() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([facts(["Prefers weekly invoices", "prefers weekly invoices ", "Works at Contoso"])])
        let plan = try await pipeline(server).plan(input("Weekly invoices. I work at Contoso.")) { _ in [] }
        #expect(plan.actions == [.add(text: "Prefers weekly invoices"), .add(text: "Works at Contoso")])
        #expect(try await server.recorded().requests.count == 1)
    }

    @Test func theExtractionPromptCarriesTimeRolesAndTheCallersGuidance() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([facts([])])
        let guided = input("My review is next Friday.", includes: "work deadlines", excludes: "health information",
                           custom: "Write facts in British English.")
        _ = try await pipeline(server).plan(guided) { _ in [] }
        let seen = try await server.recorded()
        let system = message(seen, 0, 0)
        #expect(system.contains("2026-11-25T10:00:00Z (Wednesday)"))
        #expect(system.contains("work deadlines") && system.contains("health information"))
        #expect(system.contains("Write facts in British English."))
        #expect(!system.contains("{{"))
        let conversation = message(seen, 0, 1)
        #expect(conversation.contains("user: My review is next Friday.") && conversation.contains("assistant: Noted."))
    }

    @Test func unusableAnswersAreClearErrors() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["chat_json": ["memories": ["x"]]],
            ["chat": ["content": "The user likes tea.", "finish_reason": "stop"]],
            facts(["Likes tea"]),
            decisions([["event": "MERGE", "id": "0", "text": "Likes tea"]]),
            ["chat": ["content": #"{"facts": ["Likes te"#, "finish_reason": "length"]],
        ])
        let pipeline = pipeline(server)
        let wrongShape = await #expect(throws: InferError.self) { try await pipeline.plan(input("I like tea.")) { _ in [] } }
        guard case .malformedAnswer(.extraction, _)? = wrongShape else {
            Issue.record("expected malformedAnswer(extraction), got \(String(describing: wrongShape))")
            return
        }
        let notJSON = await #expect(throws: InferError.self) { try await pipeline.plan(input("I like tea.")) { _ in [] } }
        guard case .model(.extraction, .malformedResponse)? = notJSON else {
            Issue.record("expected model(extraction, malformedResponse), got \(String(describing: notJSON))")
            return
        }
        let unknownEvent = await #expect(throws: InferError.self) { try await pipeline.plan(input("I like tea.")) { _ in [berlin] } }
        guard case .malformedAnswer(.decision, let detail)? = unknownEvent else {
            Issue.record("expected malformedAnswer(decision), got \(String(describing: unknownEvent))")
            return
        }
        #expect(detail.contains("MERGE"))
        let truncated = await #expect(throws: InferError.self) { try await pipeline.plan(input("I like tea.")) { _ in [] } }
        guard case .model(.extraction, .malformedResponse(_, let cut))? = truncated else {
            Issue.record("expected a truncation error, got \(String(describing: truncated))")
            return
        }
        #expect(cut.contains("token limit"))
        #expect(try await server.recorded().remaining == 0)
    }

    @Test func bundledPromptsLoad() throws {
        let prompts = try InferPrompts.load()
        #expect(prompts.factExtraction.contains("{{message_time}}"))
        #expect(prompts.memoryReconciliation.contains("UPDATE"))
    }
}

/// Counts calls of the lookup closure.
actor LookupCounter {
    private(set) var count = 0
    func increment() { count += 1 }
}
