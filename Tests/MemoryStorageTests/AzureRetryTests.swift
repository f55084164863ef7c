import Foundation
import Testing
@testable import MemoryStorage

/// Retries with backoff on injected `503`/`500`, dropped connections and slow answers, and exactly-once appends
/// and writes when a try's answer is lost after the server applied it.
@Suite struct AzureRetryTests {
    let server: AzureTestServer
    let store: AzureBlobStore

    init() throws {
        server = try AzureTestServer()
        store = try server.store()
    }

    @Test func serverBusyAndTimeoutsAreRetried() async throws {
        try await store.put("a", data: Data("x".utf8), condition: .none)
        try await server.injectFault(op: "get", status: 503, count: 2)
        try await server.injectFault(op: "head", status: 500, count: 1)
        #expect(try await store.get("a").data == Data("x".utf8))
        #expect(try await store.properties("a").size == 1)
        let log = try await server.requests()
        #expect(log.filter { $0.op == "get" }.map(\.status) == [503, 503, 200])
        #expect(log.filter { $0.op == "head" }.map(\.status) == [500, 200])
    }

    @Test func retriesAreBoundedAndTheErrorSaysWhatFailed() async throws {
        try await store.put("a", data: Data("x".utf8), condition: .none)
        try await server.injectFault(op: "get", status: 503, count: 100)
        do {
            _ = try await store.get("a")
            Issue.record("expected the retries to run out")
        } catch BlobStoreError.unavailable(let name, let message) {
            #expect(name == "a")
            #expect(message.contains("4 tries"), "\(message)")
            #expect(message.contains("503"), "\(message)")
        }
        #expect(try await server.requests().filter { $0.op == "get" }.count == 4)
    }

    @Test func aSlowAnswerTimesOutAndIsRetried() async throws {
        let impatient = try server.store(container: store.container, retry: AzureRetryPolicy(
            maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), requestTimeout: .seconds(2)))
        try await store.put("slow", data: Data("x".utf8), condition: .none)  // patient: only the read is timed
        try await server.injectFault(op: "get", mode: "delay", count: 1, delay: 8)
        #expect(try await impatient.get("slow").data == Data("x".utf8))
        // The slow try is logged on arrival (-1); the retry after the timeout answered.
        let gets = try await server.requests().filter { $0.op == "get" }.map(\.status)
        #expect(Array(gets.prefix(2)) == [-1, 200])
    }

    @Test func anAppendWhoseAnswerWasLostIsRecognisedNotRepeated() async throws {
        try await store.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await store.appendBlock("log", data: Data("first|".utf8), expectedPosition: 0)
        // The server applies the next append, then drops the connection without answering.
        try await server.injectFault(op: "appendblock", mode: "drop-after", count: 1)
        let result = try await store.appendBlock("log", data: Data("second|".utf8), expectedPosition: 6)
        #expect(result.offset == 6)
        #expect(try await store.get("log").data == Data("first|second|".utf8))
        #expect(result.etag == (try await store.properties("log")).etag)
        let appends = try await server.requests().filter { $0.op == "appendblock" }.map(\.status)
        #expect(appends == [201, 0, 412], "the lost try, then the retry that found it applied")
    }

    @Test func anAppendLostWithoutAByteIsStillAppliedExactlyOnce() async throws {
        // The connection closes before any answer byte, after the server applied the append: the transport fails
        // the try at once (it never resends by itself), the store retries, meets its own block and succeeds.
        let quick = try server.store(container: store.container, retry: AzureRetryPolicy(
            maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), requestTimeout: .seconds(3)))
        try await quick.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await quick.appendBlock("log", data: Data("first|".utf8), expectedPosition: 0)
        try await server.injectFault(op: "appendblock", mode: "reset-after", count: 1)
        let result = try await quick.appendBlock("log", data: Data("second|".utf8), expectedPosition: 6)
        #expect(result.offset == 6)
        #expect(try await quick.get("log").data == Data("first|second|".utf8))
        let appends = try await server.requests().filter { $0.op == "appendblock" }.map(\.status)
        #expect(appends == [201, 0, 412], "the lost try, then the retry that found it applied")
    }

    @Test func anotherWritersBlockAtOurPositionIsStillAMismatch() async throws {
        try await store.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await store.appendBlock("log", data: Data("theirs".utf8), expectedPosition: 0)
        await #expect(throws: BlobStoreError.appendPositionMismatch(name: "log", expected: 0, actualLength: 6)) {
            try await store.appendBlock("log", data: Data("mine!!".utf8), expectedPosition: 0)
        }
        #expect(try await store.get("log").data == Data("theirs".utf8))
    }

    @Test func aConditionalPutWhoseAnswerWasLostSucceedsOnce() async throws {
        try await server.injectFault(op: "putblob", mode: "drop-after", count: 1)
        let etag = try await store.put("manifest.json", data: Data("v1".utf8), condition: .ifNoneMatchAny)
        #expect(try await store.properties("manifest.json").etag == etag)
        try await server.injectFault(op: "putblob", mode: "drop-after", count: 1)
        let etag2 = try await store.put("manifest.json", data: Data("v2".utf8), condition: .ifMatch(etag))
        #expect(try await store.get("manifest.json") .data == Data("v2".utf8))
        #expect(try await store.properties("manifest.json").etag == etag2)
        // Someone else's different content is still a conflict.
        await #expect(throws: BlobStoreError.alreadyExists(name: "manifest.json")) {
            try await store.put("manifest.json", data: Data("v3".utf8), condition: .ifNoneMatchAny)
        }
    }

    @Test func aDeleteWhoseAnswerWasLostSucceeds() async throws {
        let etag = try await store.put("gone", data: Data("x".utf8), condition: .none)
        try await server.injectFault(op: "delete", mode: "drop-after", count: 1)
        try await store.delete("gone", condition: .ifMatch(etag))
        await #expect(throws: BlobStoreError.notFound(name: "gone")) { try await store.properties("gone") }
        let deletes = try await server.requests().filter { $0.op == "delete" }.map(\.status)
        #expect(deletes.first == 0)
        #expect(deletes.count == 2)
    }

    @Test func aDroppedConnectionBeforeApplyingIsRetried() async throws {
        try await store.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await server.injectFault(op: "appendblock", mode: "drop-before", count: 2)
        let result = try await store.appendBlock("log", data: Data("once".utf8), expectedPosition: 0)
        #expect(result.offset == 0)
        #expect(try await store.get("log").data == Data("once".utf8))
        #expect(try await server.requests().filter { $0.op == "appendblock" }.map(\.status) == [0, 0, 201])
    }

    @Test func backoffGrowsAndStaysWithinItsBounds() {
        let policy = AzureRetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...8 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (attempt - 1)))
            for _ in 0..<20 {
                let d = policy.delay(afterAttempt: attempt)
                #expect(d >= ceiling / 2 && d <= ceiling, "attempt \(attempt): \(d)")
            }
        }
        #expect(AzureRetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }
}
