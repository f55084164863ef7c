import Foundation

/// One outgoing HTTP request, as the Blob store and the model clients send it: always a complete body, never
/// streamed.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    /// Header names as sent; values are never logged (they may hold keys or tokens).
    public var headers: [String: String]
    public var body: Data?
    /// Seconds to wait for the whole response (connect, send, head and body) before giving up on this attempt.
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

/// Failures below HTTP: nothing (or nothing complete) came back. Every kind is worth retrying; for a write, the
/// server may have applied the request before its answer was lost.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The attempt took longer than its timeout (a stalled server or network).
    case timedOut(url: String, seconds: TimeInterval)
    /// The connection could not be made or broke before a complete answer (DNS, refused, reset, TLS, an answer
    /// cut short).
    case connectionFailed(url: String, detail: String)

    /// The failure in words, for logs and errors (the URL has no query, so no SAS signature).
    public var description: String {
        switch self {
        case .timedOut(_, let seconds):
            return "no complete answer within \(Self.format(seconds)) s (request timeout)"
        case .connectionFailed(_, let detail):
            return "connection failed: \(detail)"
        }
    }

    private static func format(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}

/// Sends one HTTP request. Abstracted so that the retry logic can be exercised with any transport;
/// the production one is ``AsyncHTTPTransport``.
public protocol HTTPTransport: Sendable {
    /// Sends `request` once (no retries) and returns whatever status came back.
    /// Throws ``TransportError`` when no response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
