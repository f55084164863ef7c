import Foundation
import MemoryStorage
import ModelClients
import Testing
@testable import MemoryCore

/// Current state over stale state without a chat model, as a new user meets it: `infer: true`, the in-process
/// MiniLM embedder (weights in `models/all-MiniLM-L6-v2`, fetched by `scripts/fetch-minilm.sh`, as the MiniLM
/// parity tests need them), a preference and then a restatement of it.
@Suite("Current state without a chat model")
struct CurrentStateTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func ranked(_ fixture: ServiceFixture, _ query: String) async throws -> [String] {
        let answer = try await fixture.service.search(try SearchRequest(json: .object([
            "query": .string(query), "filters": .object(["user_id": .string("alice")]),
        ])), fixture.context())
        return answer.texts
    }

    @Test("a newer message restating a preference outranks the older one; the old ranking kept the stale one first")
    func newerPreferenceFirst() async throws {
        let embedder = try MiniLMEmbedder(modelDirectory: MiniLMEmbedder.modelDirectory(baseDirectory: Self.packageRoot))
        let dark = "I prefer dark mode", light = "Actually I switched, I now prefer light mode"
        var before = MemoryServiceOptions()
        before.ranking = .baseline
        for options in [MemoryServiceOptions(), before] {
            let fixture = try ServiceFixture(embedder: embedder, options: options)
            defer { fixture.cleanUp() }
            try await fixture.add([dark], infer: true)
            try await fixture.add([light], infer: true)
            let order = try await ranked(fixture, "what theme does the user like?")
            #expect(Set(order) == [dark, light])
            #expect(order.first == (options.ranking == .standard ? light : dark))
        }
    }
}
