import Foundation

/// Exponential backoff with "equal jitter", the schedule both outgoing retry policies use (the blob store's
/// `AzureRetryPolicy` and the model clients' `RetryPolicy`; they differ in what they retry and how long a call may
/// take, not in how they wait): the pause before retry `n` (1 for the first retry) is a random duration between
/// half and all of `min(cap, base · 2^(n-1))`, so many instances do not retry in lockstep.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first pause, in seconds; doubled for each further retry.
    public var base: TimeInterval
    /// The largest ceiling, in seconds.
    public var cap: TimeInterval

    public init(base: TimeInterval, cap: TimeInterval) {
        self.base = max(0, base)
        self.cap = max(0, cap)
    }

    /// The pause before retry `retry`; `random` in 0...1 picks where between half and all of the ceiling.
    public func delay(retry: Int, random: Double) -> TimeInterval {
        let ceiling = min(cap, base * pow(2, Double(min(max(retry - 1, 0), 62))))
        return ceiling / 2 + ceiling / 2 * min(1, max(0, random))
    }
}
