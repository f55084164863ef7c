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

    /// A transport with its own ephemeral session (no cookies, no cache).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            if error.code == .timedOut {
                throw TransportError.timedOut(url: request.url.absoluteString, seconds: request.timeout)
            }
            if error.code == .cancelled { throw CancellationError() }
            throw TransportError.connectionFailed(url: request.url.absoluteString, detail: error.localizedDescription)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportError.connectionFailed(url: request.url.absoluteString, detail: "\(error)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw TransportError.connectionFailed(url: request.url.absoluteString, detail: "not an HTTP response")
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let name = key as? String, let text = value as? String { headers[name.lowercased()] = text }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }
}
