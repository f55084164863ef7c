import Foundation
import MemoryCore

/// An error that becomes an HTTP answer `{"detail": "...", "code": "..."}` with `status`. Every failure the API
/// layer reports to a client is one of these, so no bad input ever turns into a 500.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`).
    public var headers: [String: String]

    public init(status: Int, code: String, detail: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    /// The service's typed failure mapped to its HTTP status (400/404/409/502 or 429/503).
    public init(_ error: MemoryServiceError) {
        var headers: [String: String] = [:]
        let status: Int
        switch error.kind {
        case .invalidRequest: status = 400
        case .notFound: status = 404
        case .forbidden: status = 403
        case .conflict: status = 409
        case .upstream: status = error.retryAfter == nil ? 502 : 429
        case .unavailable: status = 503
        }
        if let retry = error.retryAfter { headers["Retry-After"] = String(Int(retry.rounded(.up))) }
        self.init(status: status, code: error.code, detail: error.detail, headers: headers)
    }

    /// The JSON response for this error, with `request_id` so a caller can quote it to the on-call person.
    public func response(requestId: String) -> APIResponse {
        let body: [String: String] = ["detail": detail, "code": code, "request_id": requestId]
        var r = APIResponse.json(body, status: status)
        for (k, v) in headers { r.headers[k] = v }
        return r
    }

    static func invalidJSON(_ why: String) -> APIError {
        APIError(status: 400, code: "invalid_json", detail: "the request body is not valid JSON: \(why)")
    }

    static func tooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "body_too_large",
                 detail: "the request body exceeds \(limit) bytes (MEMORY_MAX_BODY_BYTES); send fewer or shorter messages")
    }
}
