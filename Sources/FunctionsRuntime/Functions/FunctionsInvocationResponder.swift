import Foundation
import Hummingbird
import JSONModel

/// The one seam between the Functions host's default-mode invocations and the router.
///
/// `POST /{function}` (never under `/api`) with a function name is an invocation, not an API call:
/// - `search`, `add`, `memory`, `compact-now`: `{"Data":{"req":…}}` is unwrapped into the client's request, which
///   the same router answers (same middleware, same request id), and the answer goes back wrapped in
///   `Outputs.res` with HTTP 200; a broken envelope is also answered that way, with its 4xx inside.
/// - `compact`: the timer (``TimerInvocation``), answered with `Outputs`/`Logs`, 500 when a partition failed.
/// Every other request goes to the router as it is.
struct FunctionsInvocationResponder<Router: HTTPResponder>: HTTPResponder where Router.Context == MemoryRequestContext {
    typealias Context = MemoryRequestContext

    /// Function names (folders under `functions/`) the host may POST HTTP envelopes to.
    static var httpFunctionNames: Set<String> { ["search", "add", "memory", "compact-now"] }
    static var timerFunctionName: String { "compact" }

    let router: Router
    let role: HandlerRole
    let authenticator: Authenticator
    let service: ServiceHandle
    let maxBodyBytes: Int
    /// True when the Functions host started this process: then a timer invocation (`POST /compact` with the
    /// host's `X-Azure-Functions-InvocationId`) is the host's own call, which carries no credentials. The port
    /// is bound to 127.0.0.1 and clients' requests reach it only forwarded under `/api`, so nobody else can make
    /// it. Otherwise (the local run) the timer needs an admin credential like any admin route.
    let trustsHostTimerCalls: Bool

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .post, let name = Self.functionName(request.uri.path) else {
            return try await router.respond(to: request, context: context)
        }
        if name == Self.timerFunctionName { return try await timer(request, context: context) }
        if Self.httpFunctionNames.contains(name) { return try await envelope(request, function: name, context: context) }
        return try await router.respond(to: request, context: context)
    }

    /// The lower-cased single segment of `/{name}`, or nil for any other path (including `/api/...`).
    static func functionName(_ path: String) -> String? {
        let segments = path.split(separator: "/")
        guard segments.count == 1, !path.lowercased().hasPrefix("/api") else { return nil }
        return segments[0].lowercased()
    }

    /// Envelopes carry the client's body as an escaped JSON string, so they may be larger than the client body
    /// limit; the inner body is checked against the limit after unwrapping.
    var envelopeLimit: Int { maxBodyBytes * 2 + 65_536 }

    func envelope(_ request: Request, function: String, context: Context) async throws -> Response {
        context.log.update { $0.route = "envelope:\(function)" }
        var outer = request
        let body = try await BodyLimitMiddleware.collect(&outer, upTo: envelopeLimit)
        let inner: Request
        do throws(APIError) {
            let json = try EndpointHandlers.jsonBody(EndpointInput(query: [:], body: Data(body.readableBytesView),
                                                                   contentType: request.headers[.contentType]))
            inner = try InvocationEnvelope.httpRequest(from: json, maxBodyBytes: maxBodyBytes, invocationId: context.invocationId)
        } catch {
            // The host needs a 200 envelope to pass a status through; a broken envelope is still answered.
            var error = error
            error.requestId = context.requestId
            context.log.update { $0.status = Int(error.status.code) }
            return try await InvocationEnvelope.httpResponse(error.response(), logs: ["\(function): \(error.detail)"])
        }
        context.log.update {
            $0.route = "unmatched"
            $0.method = inner.method.rawValue
            $0.path = inner.uri.path
        }
        let response = try await router.respond(to: inner, context: context)
        context.log.update {
            $0.route = "envelope:\(function):\($0.route)"
            $0.status = Int(response.status.code)
            $0.quiet = false  // an invocation is logged even when it wraps a readiness probe
        }
        return try await InvocationEnvelope.httpResponse(
            response, logs: ["\(inner.method.rawValue) \(inner.uri.path) -> \(response.status.code)"])
    }

    /// `POST /compact` with `{"Data":{"timer":…}}`: compact every tenant's partitions (the host's timer call),
    /// or the caller's tenant (an admin credential, e.g. in the local run). With a failed partition the status
    /// is 500, which the host records as a failed invocation (the `Logs` say which partitions, by hashed id, and
    /// what to do). The answer names no ids. Refusals (wrong app, 401, 403 also for a credential bound to a user_id,
    /// 413) are plain API errors.
    func timer(_ request: Request, context: Context) async throws -> Response {
        context.log.update { $0.route = "timer:compact" }
        guard role.servesTimer else {
            throw APIError(status: .notFound, code: "wrong_app",
                           detail: "the compact timer is served by memory-compact, not \(role.executable)")
        }
        var outer = request
        let body = try await BodyLimitMiddleware.collect(&outer, upTo: envelopeLimit)
        var tenant: String? = nil
        if !(trustsHostTimerCalls && context.invocationId != nil) {
            let principal = try await AuthMiddleware.principal(request.headers, authenticator: authenticator, context: context)
            // A credential bound to one user_id reaches only that user's memories, never the whole tenant.
            guard principal.role >= .admin, principal.boundUserId == nil else {
                throw AuthMiddleware.refused(APIError(status: .forbidden, code: "forbidden",
                                                      detail: "the compact timer needs an admin credential not bound to a user_id"),
                                             context: context)
            }
            tenant = principal.tenant
        }
        var logs: [String] = []
        var status = HTTPResponse.Status.ok
        do {
            let json = try EndpointHandlers.jsonBody(EndpointInput(query: [:], body: Data(body.readableBytesView),
                                                                   contentType: request.headers[.contentType]))
            let timer = try TimerInvocation(envelope: json)
            if timer.isPastDue { logs.append("timer is past due; compacting now") }
            let backend = try await service.backend()
            let summary = await backend.compactAll(tenant: tenant)
            logs.append(summary.headline)
            logs.append(contentsOf: summary.messages)
            if summary.failed > 0 {
                status = .internalServerError
                logs.append("compaction failed for \(summary.failed) partition(s); they stay readable and writable, the next run retries")
            }
        } catch {
            let (mapped, cause) = APIError.mapped(error, requestId: context.requestId, request: request)
            logs.append("compaction did not run: \(mapped.detail)")
            status = mapped.status
            if let cause { logs.append("cause: \(cause)") }
        }
        if status != .ok { context.log.update { [last = logs.last] in $0.cause = last } }
        return InvocationEnvelope.outputs(.object([:]), logs: logs, status: status)
    }
}
