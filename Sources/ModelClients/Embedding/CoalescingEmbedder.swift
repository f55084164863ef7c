import Foundation

/// Wraps an embedder so that requests arriving together are embedded in one batch: concurrent `embed` calls
/// (e.g. four clients adding memories at once) share one encoder pass instead of queueing for one pass each.
///
/// Work-conserving, with no timer: a call that finds the embedder idle starts a batch at once (a lone request
/// waits for nothing); calls that arrive while a batch runs are queued and all go into the next batch, up to
/// ``maxBatchTexts`` texts of the same ``EmbeddingPurpose``. A request therefore waits at most for the batch in
/// flight. Each caller gets exactly its own vectors, in its order; if the wrapped embedder throws, every
/// request of that batch gets the error.
///
/// Why: the in-process MiniLM runs a batch of 32 short texts at 2–3× the sentences per second of 32 single
/// passes (docs/minilm.md), and an add is mostly one embedding.
public final class CoalescingEmbedder: Embedder, @unchecked Sendable {
    // @unchecked Sendable: the mutable state (`queue`, `running`) is only touched while holding `lock`; `inner`
    // and `maxBatchTexts` are immutable.

    /// One waiting `embed` call.
    private struct Request {
        let texts: [String]
        let purpose: EmbeddingPurpose
        let continuation: CheckedContinuation<[[Float]], any Error>
    }

    public let inner: any Embedder
    /// The most texts in one batch (a single larger request still goes alone, whole).
    public let maxBatchTexts: Int
    public var model: String { inner.model }
    public var dimension: Int { inner.dimension }

    private let lock = NSLock()
    private var queue: [Request] = []
    private var running = false

    public init(_ inner: any Embedder, maxBatchTexts: Int = 32) {
        self.inner = inner
        self.maxBatchTexts = max(1, maxBatchTexts)
    }

    public func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let startsDrain = lock.withLock {
                queue.append(Request(texts: texts, purpose: purpose, continuation: continuation))
                if running { return false }
                running = true
                return true
            }
            if startsDrain { Task { await self.drain() } }
        }
    }

    /// Requests waiting for the next batch (for tests and diagnostics).
    var queuedRequests: Int { lock.withLock { queue.count } }

    /// Runs batches until the queue is empty; only one drain runs at a time (`running`).
    private func drain() async {
        while let batch = nextBatch() {
            let texts = batch.flatMap(\.texts)
            do {
                let vectors = try await inner.embed(texts, purpose: batch[0].purpose)
                guard vectors.count == texts.count else {
                    throw ModelClientError.malformedResponse(
                        provider: inner.model, detail: "\(vectors.count) vectors for a batch of \(texts.count) texts")
                }
                var offset = 0
                for request in batch {
                    request.continuation.resume(returning: Array(vectors[offset..<(offset + request.texts.count)]))
                    offset += request.texts.count
                }
            } catch {
                for request in batch { request.continuation.resume(throwing: error) }
            }
        }
    }

    /// Takes the oldest request and the queued ones with its purpose that fit in ``maxBatchTexts``; nil (and
    /// marks the drain finished) when the queue is empty.
    private func nextBatch() -> [Request]? {
        lock.withLock {
            guard let first = queue.first else {
                running = false
                return nil
            }
            var batch = [first]
            var count = first.texts.count
            var rest: [Request] = []
            for request in queue.dropFirst() {
                if request.purpose == first.purpose && count + request.texts.count <= maxBatchTexts {
                    batch.append(request)
                    count += request.texts.count
                } else {
                    rest.append(request)
                }
            }
            queue = rest
            return batch
        }
    }
}
