import Foundation
import Hummingbird
import Logging

/// The outermost middleware: gives the request its id and writes one JSON log line when it is answered.
///
/// Request id = the host's `X-Azure-Functions-InvocationId`, or a fresh UUID. The line carries `request_id`,
/// `method`, `path`, `route`, `status`, `duration_ms`, `role`, and when known `invocation_id`, `tenant` and
/// `cause` (at `error` level for a 5xx, else `info`); never a body, a memory's text or a key. An error that
/// reaches it (thrown outside the router, e.g. by the invocation seam) is answered here through
/// ``APIError/mapped(_:requestId:request:)`` like the router's.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = MemoryRequestContext
    let role: HandlerRole
    let logger: Logger

    public init(role: HandlerRole, logger: Logger) {
        self.role = role
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        context.invocationId = request.headers[.functionsInvocationId]
        if let invocationId = context.invocationId { context.requestId = invocationId }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let (mapped, cause) = APIError.mapped(error, requestId: context.requestId, request: request)
            if let cause { context.log.update { $0.cause = cause } }
            response = mapped.response()
        }
        let fields = context.log.fields
        if !fields.quiet {
            write(request: request, status: fields.status ?? Int(response.status.code), fields: fields,
                  context: context, elapsed: ContinuousClock.now - started)
        }
        return response
    }

    func write(request: Request, status: Int, fields: RequestLogRecord.Fields, context: Context, elapsed: Duration) {
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": .string(context.requestId),
            "method": .string(fields.method ?? request.method.rawValue),
            "path": .string(String((fields.path ?? request.uri.path).prefix(300))),
            "route": .string(fields.route),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.2f", ms)),
            "role": .string(role.rawValue),
        ]
        if let invocationId = context.invocationId { metadata["invocation_id"] = .string(invocationId) }
        if let tenant = fields.tenant { metadata["tenant"] = .string(tenant) }
        if let cause = fields.cause { metadata["cause"] = .string(cause) }
        if status >= 500 {
            logger.error("request failed", metadata: metadata)
        } else {
            logger.info("request", metadata: metadata)
        }
    }
}
