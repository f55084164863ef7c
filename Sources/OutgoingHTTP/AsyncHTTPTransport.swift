import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// ``HTTPTransport`` on swift-server's AsyncHTTPClient (SwiftNIO, the event loops Hummingbird already runs).
///
/// Why not `URLSession`: on Linux, FoundationNetworking drives libcurl, which silently resends a request whose
/// kept-alive connection closed before the first answer byte. FoundationNetworking cannot rewind an in-memory body
/// (its seek callback reports success without rewinding), so the resend goes out without its body and libcurl
/// busy-polls the socket until the request timeout: one connection reset cost 30 s and a spinning core
/// (docs/azure-blob.md, "Transport"). AsyncHTTPClient never resends on its own: a reset, a truncated answer or a
/// stall fails this attempt at once (or at its deadline) with a ``TransportError``, and the caller's retry policy
/// decides. Waiting is event-driven (epoll), never a polling loop.
///
/// Every attempt carries a deadline of `request.timeout` seconds covering connect, send, head and body. Redirects
/// are not followed and bodies are not decompressed: callers see exactly what the server answered.
public struct AsyncHTTPTransport: HTTPTransport {
    /// The process-wide transport: one connection pool per process, shared by the Blob store and the model clients.
    public static let shared = AsyncHTTPTransport()

    /// The largest answer body read into memory (a snapshot blob is the largest thing the service downloads).
    public static let maxResponseBytes = 1 << 31

    /// How long connecting (TCP and TLS) may take, at most; a shorter attempt deadline wins.
    public static let connectTimeout: TimeAmount = .seconds(10)

    /// The pooled client. It lives as long as the process, so it is never shut down (a global is never deinitialised).
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: connectTimeout),
            connectionPool: HTTPClient.Configuration.ConnectionPool(
                idleTimeout: .seconds(50), concurrentHTTP1ConnectionsPerHostSoftLimit: 32),
            decompression: .disabled)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration,
                          backgroundActivityLogger: Logger(label: "outgoing-http", factory: { _ in SwiftLogNoOpLogHandler() }))
    }()

    public init() {}

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let shownURL = Self.withoutQuery(request.url)
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers where name.lowercased() != "content-length" {
            outgoing.headers.add(name: name, value: value)
        }
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(data: body))
        }
        let timeout = max(0.001, request.timeout)
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout * 1_000_000_000))
        let exchange = outgoing
        let attempt = Task { () async throws -> HTTPResponse in
            let response = try await Self.client.execute(exchange, deadline: deadline)
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { $0 + ", " + value } ?? value
            }
            return HTTPResponse(status: Int(response.status.code), headers: headers, body: Data(buffer: body))
        }
        // AsyncHTTPClient's own deadline ends with the response head; this one, on an event loop (so a busy task
        // pool cannot delay it), ends a body that stalls after the head.
        let expiry = Self.client.eventLoopGroup.any().scheduleTask(deadline: deadline) { attempt.cancel() }
        defer { expiry.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await attempt.value
            } onCancel: {
                attempt.cancel()
            }
        } catch let error as HTTPClientError {
            try Task.checkCancellation()
            switch error {
            case _ where NIODeadline.now() >= deadline:
                throw TransportError.timedOut(url: shownURL, seconds: timeout)
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout:
                throw TransportError.timedOut(url: shownURL, seconds: timeout)
            default:
                throw TransportError.connectionFailed(url: shownURL, detail: Self.describe(error))
            }
        } catch let error as TransportError {
            throw error
        } catch is CancellationError {
            try Task.checkCancellation()
            // Not the caller's cancellation: the attempt's deadline ended it.
            throw TransportError.timedOut(url: shownURL, seconds: timeout)
        } catch {
            try Task.checkCancellation()
            throw TransportError.connectionFailed(url: shownURL, detail: Self.describe(error))
        }
    }

    /// A short description of a client or NIO error for the person on call.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed: return "the server closed the connection before a complete answer"
            case .connectTimeout: return "connect timed out"
            case .cancelled: return "cancelled"
            default: return String(describing: error)
            }
        }
        if let error = error as? IOError {
            return "\(error.description)"
        }
        if error is HTTPParserError {
            return "malformed or truncated answer (\(error))"
        }
        return String(describing: error)
    }

    /// The URL without its query (which may hold a SAS signature), for errors and logs.
    static func withoutQuery(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        return components?.string ?? "(url)"
    }
}
