import Foundation

/// Who is asking and how to correlate it: every service call runs for exactly one tenant, whose name is part of
/// every storage path it touches.
public struct RequestContext: Sendable {
    /// The tenant the API key resolved to (`default` when no keys are configured).
    public var tenant: String
    /// Correlation id for logs (the Functions invocation id, or a generated one).
    public var requestId: String
    /// `Idempotency-Key` header, when the request had one; a body's `idempotency_key` is read by the request
    /// parsers and wins over nothing but this.
    public var idempotencyKey: String?
    /// The request's clock (injectable for tests).
    public var now: Date
    /// The caller holds the admin role: may use `"*"` as the only scope (every partition of the tenant).
    public var isAdmin: Bool
    /// The `user_id` the caller's credential is bound to, if any: then every call reads and writes only that
    /// user's memories (``BoundUserRule``; the rules are in docs/functions.md, "Credentials bound to a user").
    public var boundUserId: String?

    public init(tenant: String, requestId: String = UUID().uuidString, idempotencyKey: String? = nil, now: Date = Date(),
                isAdmin: Bool = false, boundUserId: String? = nil) {
        self.tenant = tenant
        self.requestId = requestId
        self.idempotencyKey = idempotencyKey
        self.now = now
        self.isAdmin = isAdmin
        self.boundUserId = boundUserId
    }
}
