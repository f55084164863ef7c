import Foundation

/// How `AzureBlobStore` retries transient failures: `500`, `502`, `503`, `504`, `408`, request timeouts and
/// connection errors, with exponential backoff and full jitter, a bounded number of times.
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
    /// How long one HTTP request may take before it counts as timed out (and is retried).
    public var requestTimeout: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(8),
                requestTimeout: Duration = .seconds(30)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.requestTimeout = requestTimeout
    }

    /// The default: 5 tries, 0.2 s doubling to at most 8 s, 30 s per request.
    public static let standard = AzureRetryPolicy()

    /// HTTP statuses worth another try.
    public static let retryableStatuses: Set<Int> = [408, 500, 502, 503, 504]

    /// The pause before try number `attempt + 1` (after `attempt` failed tries): a random duration between half
    /// and all of `min(maxDelay, baseDelay * 2^(attempt-1))`, so that many instances do not retry in lockstep.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        return ceiling * Double.random(in: 0.5...1.0)
    }

    /// Whether a transport error (no HTTP answer) is worth another try.
    static func isRetryable(_ error: URLError) -> Bool {
        switch error.code {
        case .unknown:
            // libcurl failures Foundation has no code for, such as a truncated answer ("transfer closed with N
            // bytes remaining").
            return true
        case .timedOut, .networkConnectionLost, .cannotConnectToHost, .notConnectedToInternet, .dnsLookupFailed,
             .cannotFindHost, .badServerResponse, .resourceUnavailable, .cannotLoadFromNetwork, .zeroByteResource,
             .cannotParseResponse, .dataNotAllowed, .internationalRoamingOff, .callIsActive:
            return true
        default:
            return false
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let c = components
        return TimeInterval(c.seconds) + TimeInterval(c.attoseconds) / 1e18
    }
}
