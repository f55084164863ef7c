import Foundation
import Logging
import OutgoingHTTP

/// Sends JSON requests to a model provider with the ``RetryPolicy``: retries throttling (429), server errors
/// (408, 5xx), timeouts and connection failures, and returns the first response that is not worth retrying.
///
/// Non-retryable answers (2xx and 4xx other than 408/429) are returned as they are, so the caller can read
/// provider-specific errors (content filter, unsupported `response_format`). When the retries run out it
/// throws ``ModelClientError/rateLimited(provider:retryAfter:)`` or ``ModelClientError/unavailable(provider:detail:)``.
public struct RetryingHTTPClient: Sendable {
    /// Names the provider in errors and logs, e.g. `Azure OpenAI deployment 'chat' at https://x.openai.azure.com`.
    public let provider: String
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    /// Per-attempt timeout in seconds.
    public let timeout: TimeInterval
    public let logger: Logger

    public init(provider: String, transport: any HTTPTransport, retry: RetryPolicy, timeout: TimeInterval,
                logger: Logger) {
        self.provider = provider
        self.transport = transport
        self.retry = retry
        self.timeout = timeout
        self.logger = logger
    }

    /// POSTs `body` (JSON) to `url`; `headers` are computed before every attempt (tokens may refresh).
    /// `isFinal` marks answers the caller wants back at once although their status is retryable (a 5xx that
    /// says the request itself is unsupported, which repeating cannot fix).
    public func postJSON(url: URL, body: Data, isFinal: @Sendable (HTTPResponse) -> Bool = { _ in false },
                         headers: @Sendable () async throws -> [String: String])
        async throws -> HTTPResponse
    {
        var waited: TimeInterval = 0
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            var allHeaders = try await headers()
            allHeaders["Content-Type"] = "application/json"
            allHeaders["Accept"] = "application/json"
            let request = HTTPRequest(method: "POST", url: url, headers: allHeaders, body: body, timeout: timeout)

            let failure: ModelClientError
            let serverWait: TimeInterval?
            do {
                let response = try await transport.send(request)
                if !RetryPolicy.isRetryable(status: response.status) || isFinal(response) { return response }
                serverWait = RetryPolicy.serverRequestedWait(headers: response.headers)
                let message = OpenAIErrorBody.message(in: response.body) ?? "HTTP \(response.status)"
                if response.status == 429 {
                    failure = .rateLimited(provider: provider, retryAfter: serverWait)
                } else {
                    failure = .unavailable(provider: provider, detail: "HTTP \(response.status): \(message)")
                }
                logger.warning("model call failed, may retry", metadata: [
                    "provider": "\(provider)", "status": "\(response.status)", "attempt": "\(attempt)",
                    "request_id": "\(response.requestID ?? "-")", "error": "\(message)",
                ])
            } catch let error as TransportError {
                serverWait = nil
                switch error {
                case .timedOut(_, let seconds):
                    failure = .unavailable(provider: provider, detail: "no answer within \(seconds)s (timeout)")
                case .connectionFailed(_, let detail):
                    failure = .unavailable(provider: provider, detail: "connection failed: \(detail)")
                }
                logger.warning("model call failed, may retry", metadata: [
                    "provider": "\(provider)", "attempt": "\(attempt)", "error": "\(failure)",
                ])
            }

            guard attempt < retry.maxAttempts else {
                logger.error("model call failed after \(attempt) attempts", metadata: [
                    "provider": "\(provider)", "error": "\(failure)",
                ])
                throw failure
            }
            let wait = serverWait ?? retry.backoff(retry: attempt)
            guard waited + wait <= retry.maxTotalWait else {
                logger.error("model call gives up: the next wait exceeds the retry budget", metadata: [
                    "provider": "\(provider)", "wait_s": "\(wait)", "waited_s": "\(waited)",
                    "budget_s": "\(retry.maxTotalWait)", "error": "\(failure)",
                ])
                throw failure
            }
            waited += wait
            try await retry.sleep(wait)
        }
    }
}
