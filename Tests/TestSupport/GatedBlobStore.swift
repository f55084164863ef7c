import Foundation
import Synchronization
import MemoryStorage

/// A blob store that counts `appendBlock` calls, can hold them at a closed gate (so that other writers queue
/// behind a blocked one, deterministically) and can fail chosen appends. Everything else goes to `base`.
public final class GatedBlobStore: BlobStore {
    private struct State {
        var appends = 0
        var held = 0
        var gateOpen = true
        var waiters: [CheckedContinuation<Void, Never>] = []
        var failing: Set<Int> = []
    }

    public let base: any BlobStore
    private let state = Mutex(State())

    public init(_ base: any BlobStore) { self.base = base }

    /// `appendBlock` calls so far (failed ones included).
    public var appendCount: Int { state.withLock { $0.appends } }
    /// Appends waiting at the closed gate.
    public var heldCount: Int { state.withLock { $0.held } }

    public func closeGate() { state.withLock { $0.gateOpen = false } }

    public func openGate() {
        let waiters = state.withLock { s in
            s.gateOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    /// The `n`-th append call (1-based, counted from the store's creation) fails with `unavailable`, writing nothing.
    public func failAppend(number n: Int) { state.withLock { _ = $0.failing.insert(n) } }

    public func appendBlock(_ name: String, data: Data, expectedPosition: Int?) async throws -> AppendResult {
        let (number, open) = state.withLock { s in
            s.appends += 1
            return (s.appends, s.gateOpen)
        }
        if !open {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s in
                    if s.gateOpen { return true }
                    s.held += 1
                    s.waiters.append(c)
                    return false
                }
                if resumeNow { c.resume() }
            }
            state.withLock { $0.held = max(0, $0.held - 1) }
        }
        if state.withLock({ $0.failing.contains(number) }) {
            throw BlobStoreError.unavailable(name: name, message: "injected append failure")
        }
        return try await base.appendBlock(name, data: data, expectedPosition: expectedPosition)
    }

    public func get(_ name: String, range: Range<Int>?) async throws -> BlobContent { try await base.get(name, range: range) }
    public func properties(_ name: String) async throws -> BlobProperties { try await base.properties(name) }
    public func put(_ name: String, data: Data, condition: WriteCondition) async throws -> ETag {
        try await base.put(name, data: data, condition: condition)
    }
    public func createAppendBlob(_ name: String, condition: WriteCondition) async throws -> ETag {
        try await base.createAppendBlob(name, condition: condition)
    }
    public func seal(_ name: String) async throws { try await base.seal(name) }
    public func list(prefix: String, marker: String?, maxResults: Int) async throws -> BlobListPage {
        try await base.list(prefix: prefix, marker: marker, maxResults: maxResults)
    }
    public func delete(_ name: String, condition: WriteCondition) async throws { try await base.delete(name, condition: condition) }
    public var maxAppendBlockBytes: Int { base.maxAppendBlockBytes }
}

/// Waits (yielding, without a deadline that could make a test flaky on a busy machine, but with a generous
/// cap so a broken test ends) until `condition` holds; false if it never did.
public func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<20_000 {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return condition()
}
