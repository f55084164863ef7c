import Foundation
import OutgoingHTTP

/// How `AzureBlobStore` retries transient failures: `500`, `502`, `503`, `504`, `408`, request timeouts, connection
/// errors (refused, reset, truncated answers) and successful answers missing a promised header, with exponential
/// backoff and jitter, a bounded number of times and within one deadline per operation.
///
/// Azure answers throttling with `503 ServerBusy` and slow operations with `500 OperationTimedOut`; both are
/// safe to retry because every write the engine makes is conditional (ETag or append position), and the store
/// recognises its own earlier attempt when a retried write finds it already applied.
public struct AzureRetryPolicy: Sendable, Equatable {
    /// Total tries per operation, the first included (at least 1).
    public var maxAttempts: Int
    /// The backoff before the second try; doubled for each further try.
    public var baseDelay: Duration
    /// The longest backoff between two tries.
    public var maxDelay: Duration
    /// How long one try may take (connect, send, whole answer) before it counts as timed out (and is retried).
    public var requestTimeout: Duration
    /// How long one operation may take with all its tries and pauses; no try starts that could not get at least a
    /// tenth of ``requestTimeout`` before it, and the last try is cut to what is left.
    public var deadline: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(8),
                requestTimeout: Duration = .seconds(30), deadline: Duration = .seconds(60)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.requestTimeout = requestTimeout
        self.deadline = max(deadline, .milliseconds(1))
    }

    /// The default: 5 tries, 0.2 s doubling to at most 8 s, 30 s per try, 60 s per operation.
    public static let standard = AzureRetryPolicy()

    /// The setting for the per-try timeout, in seconds.
    public static let timeoutSetting = "MEMORY_STORAGE_TIMEOUT_SECONDS"
    /// The setting for the per-operation deadline, in seconds.
    public static let deadlineSetting = "MEMORY_STORAGE_DEADLINE_SECONDS"

    /// The standard policy with ``requestTimeout`` from `MEMORY_STORAGE_TIMEOUT_SECONDS` and ``deadline`` from
    /// `MEMORY_STORAGE_DEADLINE_SECONDS` when they are set (positive numbers of seconds).
    /// - Throws: ``AzureSettingsError/invalidDuration(setting:value:)`` for a value that is not a positive number.
    public static func fromEnvironment(_ environment: [String: String]) throws -> AzureRetryPolicy {
        var policy = AzureRetryPolicy.standard
        if let timeout = try seconds(environment, timeoutSetting) { policy.requestTimeout = timeout }
        if let deadline = try seconds(environment, deadlineSetting) { policy.deadline = deadline }
        return policy
    }

    private static func seconds(_ environment: [String: String], _ name: String) throws -> Duration? {
        guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard let value = Double(raw), value.isFinite, value > 0, value <= 86_400 else {
            throw AzureSettingsError.invalidDuration(setting: name, value: raw)
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// HTTP statuses worth another try.
    public static let retryableStatuses: Set<Int> = [408, 500, 502, 503, 504]

    /// The pause before try number `attempt + 1` (after `attempt` failed tries): a random duration between half
    /// and all of `min(maxDelay, baseDelay * 2^(attempt-1))`, so that many instances do not retry in lockstep.
    public func delay(afterAttempt attempt: Int) -> Duration {
        .seconds(Backoff(base: baseDelay.timeInterval, cap: maxDelay.timeInterval)
            .delay(retry: attempt, random: Double.random(in: 0...1)))
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let c = components
        return TimeInterval(c.seconds) + TimeInterval(c.attoseconds) / 1e18
    }
}
