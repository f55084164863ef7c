import Foundation
import Testing
@testable import ModelClients

/// ``CoalescingEmbedder``: concurrent requests share one batch, each gets its own vectors, errors reach every
/// request of the batch, purposes are not mixed and batches stay within the cap.
@Suite("Coalescing embedder")
struct CoalescingEmbedderTests {
    /// Records every batch it is given; the first call waits until ``open()`` so that others queue behind it.
    /// Vectors are `[text length, purpose]`, so a caller receiving another's vector is caught.
    final class GatedEmbedder: Embedder, @unchecked Sendable {
        // @unchecked Sendable: all mutable state is guarded by `lock`.
        let model = "gated"
        let dimension = 2
        private let lock = NSLock()
        private var batches: [(texts: [String], purpose: EmbeddingPurpose)] = []
        private var gate: CheckedContinuation<Void, Never>?
        private var isOpen = false
        private let failing: Bool

        init(failing: Bool = false) { self.failing = failing }

        var recorded: [(texts: [String], purpose: EmbeddingPurpose)] { lock.withLock { batches } }

        func open() {
            let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                isOpen = true
                defer { gate = nil }
                return gate
            }
            waiting?.resume()
        }

        func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
            lock.withLock { batches.append((texts, purpose)) }
            await withCheckedContinuation { continuation in
                let passes = lock.withLock { () -> Bool in
                    if isOpen { return true }
                    gate = continuation
                    return false
                }
                if passes { continuation.resume() }
            }
            if failing { throw ModelClientError.notConfigured(provider: "gated", remedy: "test failure") }
            return texts.map { [Float($0.count), purpose == .query ? 1 : 0] }
        }
    }

    /// Polls `condition` for up to 5 s.
    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<5000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition(), "timed out waiting")
    }

    @Test("requests arriving while a batch runs are embedded together, each getting its own vectors")
    func coalesces() async throws {
        let inner = GatedEmbedder()
        let embedder = CoalescingEmbedder(inner)
        async let first = embedder.embed(["a"], purpose: .document)
        try await waitUntil { inner.recorded.count == 1 }
        async let second = embedder.embed(["bb", "ccc"], purpose: .document)
        async let third = embedder.embed(["dddd"], purpose: .document)
        try await waitUntil { embedder.queuedRequests == 2 }
        inner.open()
        let (v1, v2, v3) = try await (first, second, third)
        #expect(v1 == [[1, 0]])
        #expect(v2 == [[2, 0], [3, 0]])
        #expect(v3 == [[4, 0]])
        let batches = inner.recorded
        #expect(batches.count == 2, "one batch for the first request, one shared by the two that queued")
        #expect(batches.last.map { Set($0.texts) } == ["bb", "ccc", "dddd"])
    }

    @Test("a lone request is embedded at once, alone")
    func loneRequest() async throws {
        let inner = GatedEmbedder()
        inner.open()
        let embedder = CoalescingEmbedder(inner)
        #expect(try await embedder.embed(["hello"], purpose: .query) == [[5, 1]])
        #expect(try await embedder.embed([], purpose: .query).isEmpty)
        #expect(inner.recorded.count == 1)
        #expect(embedder.model == "gated" && embedder.dimension == 2)
    }

    @Test("queries and documents are not mixed in a batch, and a batch holds at most maxBatchTexts texts")
    func separatesPurposesAndCaps() async throws {
        let inner = GatedEmbedder()
        let embedder = CoalescingEmbedder(inner, maxBatchTexts: 3)
        async let first = embedder.embed(["x"], purpose: .document)
        try await waitUntil { inner.recorded.count == 1 }
        async let q = embedder.embed(["qq"], purpose: .query)
        async let d1 = embedder.embed(["d1", "d2"], purpose: .document)
        async let d2 = embedder.embed(["d3", "d4"], purpose: .document)
        try await waitUntil { embedder.queuedRequests == 3 }
        inner.open()
        let (_, vq, vd1, vd2) = try await (first, q, d1, d2)
        #expect(vq == [[2, 1]])
        #expect(vd1 == [[2, 0], [2, 0]] && vd2 == [[2, 0], [2, 0]])
        let batches = inner.recorded
        #expect(batches.count == 4, "first; then the query; then d1 and d2 apart (2 + 2 > 3)")
        #expect(batches.allSatisfy { $0.texts.count <= 3 })
        for batch in batches.dropFirst() {
            #expect(Set(batch.texts.map { $0.hasPrefix("q") }).count == 1, "a batch mixed purposes: \(batch.texts)")
        }
    }

    @Test("an error of the wrapped embedder reaches every request of the batch, and the next batch still runs")
    func errorsReachEveryRequest() async throws {
        let inner = GatedEmbedder(failing: true)
        let embedder = CoalescingEmbedder(inner)
        async let first = embedder.embed(["a"], purpose: .document)
        try await waitUntil { inner.recorded.count == 1 }
        async let second = embedder.embed(["b"], purpose: .document)
        async let third = embedder.embed(["c"], purpose: .document)
        try await waitUntil { embedder.queuedRequests == 2 }
        inner.open()
        var failures = 0
        do { _ = try await first } catch is ModelClientError { failures += 1 }
        do { _ = try await second } catch is ModelClientError { failures += 1 }
        do { _ = try await third } catch is ModelClientError { failures += 1 }
        #expect(failures == 3)
        #expect(embedder.queuedRequests == 0)
        await #expect(throws: ModelClientError.self) { try await embedder.embed(["later"], purpose: .query) }
    }
}
