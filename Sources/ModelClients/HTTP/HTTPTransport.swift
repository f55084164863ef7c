import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request as the model clients send it: always a complete body, never streamed.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    /// Header names as sent; values are never logged (they may hold keys or tokens).
    public var headers: [String: String]
    public var body: Data?
    /// Seconds to wait for the whole response before giving up on this attempt.
    public var timeout: TimeInterval

    public init(method: String = "POST", url: URL, headers: [String: String] = [:], body: Data? = nil,
                timeout: TimeInterval = 60) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete HTTP response. Header names are lower-cased so lookups do not depend on the server's spelling.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }

    /// The value of a header (name matched case-insensitively).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The provider's correlation id (`apim-request-id` on Azure, `x-request-id` on OpenAI), for logs.
    public var requestID: String? { header("apim-request-id") ?? header("x-request-id") }
}

/// Failures below HTTP: nothing (or nothing complete) came back. Both kinds are worth retrying.
public enum TransportError: Error, Sendable, Equatable {
    /// The attempt took longer than its timeout.
    case timedOut(url: String, seconds: TimeInterval)
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    case connectionFailed(url: String, detail: String)
}

/// Sends one HTTP request. Abstracted so that the retry logic can be exercised with any transport;
/// the production one is ``URLSessionTransport``.
public protocol HTTPTransport: Sendable {
    /// Sends `request` once (no retries) and returns whatever status came back.
    /// Throws ``TransportError`` when no response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// ``HTTPTransport`` on Foundation's `URLSession` (FoundationNetworking on Linux).
public struct URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// Longest silence the session itself tolerates. Each request's own timeout is enforced by ``send(_:)``;
    /// the session's default (60 s without a byte) would otherwise cut every answer that takes longer to
    /// start, whatever `MEMORY_CHAT_TIMEOUT_SECONDS` says: a model served on CPU sends nothing until its whole
    /// (non-streamed) answer is ready.
    static let sessionIdleTimeout: TimeInterval = 24 * 3600

    /// A transport with its own ephemeral session (no cookies, no cache).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Self.sessionIdleTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    /// Sends the request and enforces `request.timeout` itself (FoundationNetworking does not apply a
    /// request's `timeoutInterval` to the whole exchange): when it expires the task is cancelled and
    /// ``TransportError/timedOut(url:seconds:)`` is thrown. Cancelling the calling task cancels the request.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let url = request.url.absoluteString
        let inFlight = InFlightRequest()
        let session = self.session
        let outcome: Result<HTTPResponse, TransportError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let task = session.dataTask(with: urlRequest) { data, response, error in
                    continuation.resume(returning: Self.outcome(data: data, response: response, error: error,
                                                                url: url, timeout: request.timeout,
                                                                timedOut: inFlight.timedOut))
                }
                inFlight.start(task)
                DispatchQueue.global().asyncAfter(deadline: .now() + request.timeout) {
                    inFlight.cancel(becauseOfTimeout: true)
                }
            }
        } onCancel: {
            inFlight.cancel(becauseOfTimeout: false)
        }
        try Task.checkCancellation()
        return try outcome.get()
    }

    private static func outcome(data: Data?, response: URLResponse?, error: (any Error)?, url: String,
                                timeout: TimeInterval, timedOut: Bool) -> Result<HTTPResponse, TransportError> {
        if timedOut { return .failure(.timedOut(url: url, seconds: timeout)) }
        if let error {
            if let urlError = error as? URLError, urlError.code == .timedOut {
                return .failure(.timedOut(url: url, seconds: timeout))
            }
            return .failure(.connectionFailed(url: url, detail: error.localizedDescription))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(.connectionFailed(url: url, detail: "not an HTTP response"))
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let name = key as? String, let text = value as? String { headers[name.lowercased()] = text }
        }
        return .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
    }
}

/// The data task of one request, shared between the completion handler, the timeout timer and the
/// cancellation handler. `@unchecked Sendable`: every stored property is read and written under `lock` only.
private final class InFlightRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var cancelled = false
    private var expired = false

    /// Whether the timeout fired before the request finished.
    var timedOut: Bool {
        lock.lock()
        defer { lock.unlock() }
        return expired
    }

    /// Records and resumes the task (or cancels it at once if cancellation came first).
    func start(_ task: URLSessionDataTask) {
        lock.lock()
        self.task = task
        let cancelNow = cancelled
        lock.unlock()
        task.resume()
        if cancelNow { task.cancel() }
    }

    func cancel(becauseOfTimeout: Bool) {
        lock.lock()
        if becauseOfTimeout, task?.state != .completed { expired = true }
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }
}
