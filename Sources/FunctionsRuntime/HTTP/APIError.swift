import Foundation
import Hummingbird
import MemoryCore

/// An error that becomes an HTTP answer `{"detail": "...", "code": "...", "request_id": "..."}` with `status`.
///
/// Every failure reported to a client is one of these: routes and middleware throw it and Hummingbird's router
/// turns it into the response (``HTTPResponseError``). Other errors are mapped into one by
/// ``APIError/mapped(_:requestId:request:)``, the single place that decides what a failure looks like on the
/// wire, so no bad input ever turns into a 500 and a 500 always carries the request id.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`), by name as sent.
    public var headers: [String: String]
    /// The request id quoted in the body; set when the error is mapped for a request.
    public var requestId: String?

    public init(status: HTTPResponse.Status, code: String, detail: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(detail)" }

    /// The service's typed failure mapped to its HTTP status (400/403/404/409/502 or 429/503).
    public init(_ error: MemoryServiceError) {
        var headers: [String: String] = [:]
        let status: HTTPResponse.Status
        switch error.kind {
        case .invalidRequest: status = .badRequest
        case .notFound: status = .notFound
        case .forbidden: status = .forbidden
        case .conflict: status = .conflict
        case .upstream: status = error.retryAfter == nil ? .badGateway : .tooManyRequests
        case .unavailable: status = .serviceUnavailable
        }
        if let retry = error.retryAfter { headers["Retry-After"] = String(Int(retry.rounded(.up))) }
        self.init(status: status, code: error.code, detail: error.detail, headers: headers)
    }

    /// Any error thrown while answering `request`, as the client sees it, with `requestId` attached; the one
    /// place that decides what a failure looks like on the wire.
    ///
    /// ``APIError`` stays as it is; ``MemoryServiceError`` maps by kind; ``ConfigurationError`` (the service could
    /// not be built) is a 503 naming the setting; Hummingbird's own 404 (no route) is `not_found`. Anything
    /// else is a 500 `internal_error` that tells the caller to quote the request id. `cause` is what the log
    /// line must record for the on-call person (never sent to the client); nil when the answer says it all.
    static func mapped(_ error: any Error, requestId: String, request: Request) -> (error: APIError, cause: String?) {
        var mapped: APIError
        var cause: String?
        switch error {
        case let e as APIError:
            mapped = e
        case let e as MemoryServiceError:
            mapped = APIError(e)
        case let e as ConfigurationError:
            mapped = APIError(status: .serviceUnavailable, code: "service_unavailable", detail: e.description)
            cause = e.description
        case let e as HTTPError where e.status == .notFound:
            mapped = APIError(status: .notFound, code: "not_found",
                              detail: "no route \(request.method.rawValue) \(request.uri.path.prefix(200))")
        default:
            mapped = APIError(status: .internalServerError, code: "internal_error",
                              detail: "an unexpected error occurred; quote request id \(requestId) to the operator")
            cause = String(describing: error)
        }
        mapped.requestId = requestId
        return (mapped, cause)
    }

    /// The JSON response for this error, with `request_id` so a caller can quote it to the on-call person.
    public func response() -> Response {
        let body: [String: String] = ["detail": detail, "code": code, "request_id": requestId ?? ""]
        var response = Response.json(body, status: status)
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }

    static func invalidJSON(_ why: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_json", detail: "the request body is not valid JSON: \(why)")
    }

    static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "body_too_large",
                 detail: "the request body exceeds \(limit) bytes (MEMORY_MAX_BODY_BYTES); send fewer or shorter messages")
    }
}

extension APIError: HTTPResponseError {
    /// Called by Hummingbird's router for a thrown ``APIError``.
    public func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        response()
    }
}

/// `HTTPField.Name` for header names spelled as strings (`HTTPField` itself is not re-exported by Hummingbird).
typealias HTTPField = HTTPFields.Element
