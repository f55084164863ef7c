import Foundation
import Testing
@testable import ModelClients

@Suite struct RetryPolicyTests {
    @Test func serverWaitPrefersMillisecondsThenSecondsThenHTTPDate() {
        #expect(RetryPolicy.serverRequestedWait(headers: ["retry-after-ms": "1200", "Retry-After": "7"]) == 1.2)
        #expect(RetryPolicy.serverRequestedWait(headers: ["Retry-After": "7"]) == 7)
        let now = Date(timeIntervalSince1970: 1_445_412_470)  // 2015-10-21 07:27:50 GMT
        #expect(RetryPolicy.serverRequestedWait(headers: ["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"], now: now) == 10)
        #expect(RetryPolicy.serverRequestedWait(headers: ["retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"], now: now) == 0)
        #expect(RetryPolicy.serverRequestedWait(headers: ["retry-after": "soon"]) == nil)
        #expect(RetryPolicy.serverRequestedWait(headers: ["retry-after-ms": "-5"]) == nil)
        #expect(RetryPolicy.serverRequestedWait(headers: [:]) == nil)
    }

    @Test func backoffGrowsExponentiallyWithinJitterAndCap() {
        let low = RetryPolicy(initialBackoff: 1, maxBackoff: 5, random: { 0 })
        let high = RetryPolicy(initialBackoff: 1, maxBackoff: 5, random: { 1 })
        #expect((1...5).map { low.backoff(retry: $0) } == [0.5, 1, 2, 2.5, 2.5])
        #expect((1...5).map { high.backoff(retry: $0) } == [1, 2, 4, 5, 5])
    }

    @Test func retryableStatuses() {
        #expect([408, 429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![200, 400, 401, 403, 404, 413, 422].contains(where: RetryPolicy.isRetryable(status:)))
    }
}
