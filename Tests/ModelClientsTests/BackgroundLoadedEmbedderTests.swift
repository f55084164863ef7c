import Foundation
import Testing
@testable import ModelClients

/// ``BackgroundLoadedEmbedder``: returns at once, embeds with the loaded model, passes a load failure to every
/// caller, and refuses a model whose dimension differs from the announced one.
@Suite("Background-loaded embedder")
struct BackgroundLoadedEmbedderTests {
    @Test("construction does not wait for the load; embed waits and uses the loaded model")
    func loadsInBackground() async throws {
        let started = ContinuousClock.now
        let embedder = BackgroundLoadedEmbedder(model: "hash", dimension: 64) {
            Thread.sleep(forTimeInterval: 1)
            return HashingEmbedder(dimension: 64)
        }
        // Well under the load's second, with room for a busy machine.
        #expect(ContinuousClock.now - started < .milliseconds(700), "the constructor waited for the load")
        let vectors = try await embedder.embed(["coffee", "tea"], purpose: .document)
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(vectors == (try await HashingEmbedder(dimension: 64).embed(["coffee", "tea"], purpose: .document)))
        #expect(embedder.model == "hash" && embedder.dimension == 64)
    }

    @Test("a failed load reaches every embed call")
    func loadFailure() async throws {
        let embedder = BackgroundLoadedEmbedder(model: "broken", dimension: 8) {
            throw ModelClientError.notConfigured(provider: "broken", remedy: "fetch the model")
        }
        for _ in 0..<2 {
            await #expect(throws: ModelClientError.self) { try await embedder.embed(["x"], purpose: .query) }
        }
    }

    @Test("a loaded model of another dimension is refused")
    func dimensionMismatch() async throws {
        let embedder = BackgroundLoadedEmbedder(model: "hash", dimension: 384) { HashingEmbedder(dimension: 16) }
        await #expect(throws: ModelClientError.self) { try await embedder.embed(["x"], purpose: .query) }
    }
}
