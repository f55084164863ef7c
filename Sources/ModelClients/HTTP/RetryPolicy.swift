import Foundation
import OutgoingHTTP

/// When and how long to wait before repeating a failed model call.
///
/// Retried: 408, 429 and 5xx answers, timeouts and connection failures. The wait before each retry is the
/// server's `retry-after-ms`, else its `Retry-After` (seconds or an HTTP date), else exponential backoff with
/// jitter. Attempts are bounded by ``maxAttempts`` and the sum of waits by ``maxTotalWait``: a server asking
/// for a longer wait than the budget has left ends the call at once with a typed error rather than hanging
/// the agent's request.
public struct RetryPolicy: Sendable {
    /// Total attempts including the first (1 means no retries).
    public var maxAttempts: Int
    /// Backoff before the first retry when the server names no wait; doubles on every further retry.
    public var initialBackoff: TimeInterval
    /// Cap on one computed backoff (a server-named wait may be longer, within ``maxTotalWait``).
    public var maxBackoff: TimeInterval
    /// Cap on the sum of all waits of one call.
    public var maxTotalWait: TimeInterval
    /// Waits the given number of seconds. Injectable so tests run instantly and can see the waits.
    public var sleep: @Sendable (TimeInterval) async throws -> Void
    /// A random factor in 0...1 for jitter. Injectable for deterministic tests.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int = 4, initialBackoff: TimeInterval = 0.5, maxBackoff: TimeInterval = 8,
        maxTotalWait: TimeInterval = 30,
        sleep: @escaping @Sendable (TimeInterval) async throws -> Void = RetryPolicy.taskSleep,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(0, initialBackoff)
        self.maxBackoff = max(0, maxBackoff)
        self.maxTotalWait = max(0, maxTotalWait)
        self.sleep = sleep
        self.random = random
    }

    /// A policy that never retries.
    public static var none: RetryPolicy { RetryPolicy(maxAttempts: 1) }

    /// Real sleeping with `Task.sleep` (cancellable).
    public static let taskSleep: @Sendable (TimeInterval) async throws -> Void = { seconds in
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }

    /// Whether an HTTP status is worth another attempt.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// Backoff before retry number `retry` (1 for the first retry): "equal jitter", between half and all of
    /// `initialBackoff * 2^(retry-1)`, capped at ``maxBackoff``.
    public func backoff(retry: Int) -> TimeInterval {
        Backoff(base: initialBackoff, cap: maxBackoff).delay(retry: retry, random: random())
    }

    /// The wait a response asks for: `retry-after-ms` (milliseconds) first, then `Retry-After` as seconds or
    /// as an HTTP date relative to `now`. Nil when neither is present or parseable.
    public static func serverRequestedWait(headers: [String: String], now: Date = Date()) -> TimeInterval? {
        let lower = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        if let ms = lower["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           ms.isFinite, ms >= 0 {
            return ms / 1000
        }
        guard let value = lower["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return seconds }
        if let date = parseHTTPDate(value) { return max(0, date.timeIntervalSince(now)) }
        return nil
    }

    /// Parses an IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
