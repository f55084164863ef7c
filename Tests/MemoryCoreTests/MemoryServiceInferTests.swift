import Foundation
import Testing
import MemoryStorage
import ModelClients
@testable import MemoryCore

/// A chat model that answers from a script, in order, and fails when the script runs out.
actor ScriptedChat: ChatModel {
    nonisolated let model = "scripted"
    private var answers: [Result<String, ModelClientError>]
    private(set) var calls = 0

    init(_ answers: [Result<String, ModelClientError>]) { self.answers = answers }

    func complete(_ request: ChatRequest) async throws -> ChatResponse {
        calls += 1
        guard !answers.isEmpty else { throw ModelClientError.unavailable(provider: model, detail: "script exhausted") }
        switch answers.removeFirst() {
        case .success(let content):
            return ChatResponse(content: content, usage: TokenUsage(promptTokens: 10, completionTokens: 5), finishReason: "stop")
        case .failure(let error):
            throw error
        }
    }
}

@Suite struct MemoryServiceInferTests {
    func addInferred(_ f: ServiceFixture, _ text: String) async throws -> AddOutcome {
        try #require(try await f.service.add(try AddRequest(json: .object([
            "messages": .array([.object(["role": .string("user"), "content": .string(text)])]),
            "user_id": .string("alice"),
        ])), f.context()).applied)
    }

    @Test func contradictionUpdatesTheMemoryAndKeepsTheOldTextInHistory() async throws {
        let chat = ScriptedChat([
            .success(#"{"facts":["Prefers weekly invoices"]}"#),
            .success(#"{"decisions":[{"event":"UPDATE","id":"0","text":"Prefers weekly invoices"}]}"#),
        ])
        let f = try ServiceFixture(chat: chat); defer { f.cleanUp() }
        let ids = try await f.add(["Prefers monthly invoices"], infer: false)
        let answer = try await addInferred(f, "Actually, send my invoices every week")
        #expect(answer.events.count == 1)
        #expect(answer.events.first?.kind == .update)
        #expect(answer.events.first?.id.uuidString.lowercased() == ids[0])
        #expect(answer.usage?.totalTokens == 30)
        #expect(!answer.storedVerbatim)
        let history = try await f.service.history(try parseMemoryId(ids[0]), f.context())
        #expect(history.entries.last?.oldText == "Prefers monthly invoices")
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.texts == ["Prefers weekly invoices"])
    }

    @Test func retractionInvalidatesButKeepsHistoryAndNewFactsAreAdded() async throws {
        let chat = ScriptedChat([
            .success(#"{"facts":["No longer has a cat","Has a dog named Rex"]}"#),
            .success(#"{"decisions":[{"event":"DELETE","id":"0","text":""},{"event":"ADD","id":"","text":"Has a dog named Rex"}]}"#),
        ])
        let f = try ServiceFixture(chat: chat); defer { f.cleanUp() }
        let ids = try await f.add(["Has a cat named Tom"], infer: false)
        let answer = try await addInferred(f, "Tom the cat is gone; I got a dog called Rex")
        #expect(answer.events.map(\.kind.rawValue).sorted() == ["ADD", "DELETE"])
        let id = try parseMemoryId(ids[0])
        #expect(await serviceError { _ = try await f.service.get(id, f.context()) }?.kind == .notFound)
        let history = try await f.service.history(id, f.context())
        #expect(history.events == ["ADD", "DELETE"])
    }

    @Test func aFailingModelWritesNothingAndSaysSo() async throws {
        let chat = ScriptedChat([.failure(.rateLimited(provider: "scripted", retryAfter: 3))])
        let f = try ServiceFixture(chat: chat); defer { f.cleanUp() }
        let error = await serviceError { _ = try await addInferred(f, "I like tea") }
        #expect(error?.kind == .upstream)
        #expect(error?.retryAfter == 3)
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.count == 0)
    }

    @Test func aMalformedDecisionWritesNothing() async throws {
        let chat = ScriptedChat([
            .success(#"{"facts":["Likes green tea"]}"#),
            .success(#"{"decisions":[{"event":"EXPLODE","id":"0","text":"x"}]}"#),
        ])
        let f = try ServiceFixture(chat: chat); defer { f.cleanUp() }
        try await f.add(["Likes black tea"], infer: false)
        let error = await serviceError { _ = try await addInferred(f, "I like green tea now") }
        #expect(error?.code == "model_malformed_answer")
        let all = try await f.service.list(try ListRequest(json: json(#"{"filters":{"user_id":"alice"}}"#)), f.context())
        #expect(all.texts == ["Likes black tea"])
    }
}
