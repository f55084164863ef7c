import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// The Hummingbird request context of every handler: what the middleware learns about a request and the
/// routes and the log line need.
///
/// ``RequestLogMiddleware`` sets the ids first; ``AuthMiddleware`` sets the principal. ``log`` is shared by
/// reference, because middleware further in (and the invocation seam) record what the outer log middleware
/// writes once the answer is known (the same way Hummingbird shares `endpointPath` with its metrics).
public struct MemoryRequestContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id quoted in error bodies and log lines: the host's `X-Azure-Functions-InvocationId`, or a new UUID.
    public var requestId: String
    /// The host's invocation id, when the request came through the Functions host.
    public var invocationId: String?
    /// Who is calling, once ``AuthMiddleware`` has checked the key.
    public var principal: Principal?
    /// What the request log line reports beyond the request itself.
    public let log: RequestLogRecord

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestId = UUID().uuidString
        log = RequestLogRecord()
    }
}

/// The facts about one request that are learnt on the way in and logged on the way out: the route name, the
/// tenant, the cause of a failure, and, for an unwrapped invocation envelope, the inner request and status.
/// Locked, because the context that carries it is `Sendable`.
public final class RequestLogRecord: Sendable {
    public struct Fields: Sendable {
        /// `unmatched`, an endpoint name (`add`), `envelope:search:search`, `timer:compact`.
        public var route = "unmatched"
        public var tenant: String?
        /// Why a request failed, for the operator (never sent to the client).
        public var cause: String?
        /// The request to report instead of the one received (the `req` inside an envelope).
        public var method: String?
        public var path: String?
        /// The status to report instead of the one answered (the one inside an envelope's `Outputs.res`).
        public var status: Int?
        /// No log line (readiness: the host polls `GET /` every 25 ms).
        public var quiet = false
    }

    private let box = NIOLockedValueBox(Fields())

    public init() {}

    public var fields: Fields { box.withLockedValue { $0 } }

    public func update(_ change: (inout Fields) -> Void) {
        box.withLockedValue { change(&$0) }
    }
}
