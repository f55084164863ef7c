import Foundation

/// Failures of an embedding or chat call, each naming the provider and what the operator can do about it.
public enum ModelClientError: Error, Sendable, Equatable {
    /// The model is not configured or its files are missing. `remedy` says how to fix it.
    case notConfigured(provider: String, remedy: String)
    /// The provider rejected the credentials (401/403).
    case unauthorized(provider: String, detail: String)
    /// Throttled (429) and retries ran out.
    case rateLimited(provider: String, retryAfter: TimeInterval?)
    /// The provider failed (5xx, timeout, connection) and retries ran out.
    case unavailable(provider: String, detail: String)
    /// The request was refused as invalid (4xx other than 401/403/429), e.g. input too long.
    case rejected(provider: String, status: Int, detail: String)
    /// Content filter or model refusal.
    case refused(provider: String, detail: String)
    /// The response could not be understood (bad JSON, wrong shape, truncated output).
    case malformedResponse(provider: String, detail: String)
}

extension ModelClientError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notConfigured(let p, let r): return "\(p) is not configured: \(r)"
        case .unauthorized(let p, let d): return "\(p) rejected the credentials: \(d)"
        case .rateLimited(let p, let ra):
            return "\(p) is throttling requests" + (ra.map { " (retry after \($0)s)" } ?? "")
        case .unavailable(let p, let d): return "\(p) is unavailable: \(d)"
        case .rejected(let p, let s, let d): return "\(p) rejected the request (\(s)): \(d)"
        case .refused(let p, let d): return "\(p) refused to answer: \(d)"
        case .malformedResponse(let p, let d): return "\(p) returned a malformed response: \(d)"
        }
    }
}
