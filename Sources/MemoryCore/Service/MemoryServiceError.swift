import Foundation

/// A failure the service reports to its caller: what kind (so the HTTP layer picks the status), a stable
/// machine-readable `code`, and a `detail` sentence for a person.
public struct MemoryServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request is malformed or names something invalid (HTTP 400).
        case invalidRequest
        /// The memory, entity or export does not exist for this tenant (HTTP 404; also for another tenant's ids).
        case notFound
        /// The caller's role does not allow this request, e.g. a tenant-wide `"*"` without admin (HTTP 403).
        case forbidden
        /// The request conflicts with the stored state, e.g. an embedding model mismatch (HTTP 409).
        case conflict
        /// An embedding or chat model failed (HTTP 502) or is throttling (HTTP 429 when `retryAfter` is set).
        case upstream
        /// Storage is unreachable or overloaded; safe to retry (HTTP 503).
        case unavailable
    }

    public var kind: Kind
    public var code: String
    public var detail: String
    /// Seconds the caller should wait before retrying, when known.
    public var retryAfter: TimeInterval?

    public init(_ kind: Kind, code: String, detail: String, retryAfter: TimeInterval? = nil) {
        self.kind = kind
        self.code = code
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code): \(detail)" }

    public static func invalid(_ detail: String, code: String = "invalid_request") -> MemoryServiceError {
        MemoryServiceError(.invalidRequest, code: code, detail: detail)
    }

    public static func notFound(_ detail: String, code: String = "not_found") -> MemoryServiceError {
        MemoryServiceError(.notFound, code: code, detail: detail)
    }
}
