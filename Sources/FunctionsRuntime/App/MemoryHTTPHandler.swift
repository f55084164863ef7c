import Foundation
import Logging
import MemoryCore

/// The whole request path of a handler, independent of the HTTP server: readiness (`GET /`), the
/// default-mode invocation envelopes (`POST /{function}`), and the API routes (forwarded `/api/...` or plain),
/// with auth, role and app checks, error mapping and one JSON log line per request.
public struct MemoryHTTPHandler: Sendable {
    public let role: HandlerRole
    public let authenticator: Authenticator
    public let service: ServiceHandle
    public let maxBodyBytes: Int
    /// True when the Functions host started this process: then a timer invocation (`POST /compact` with the
    /// host's `X-Azure-Functions-InvocationId`) is the host's own call, which carries no credentials. The port
    /// is bound to 127.0.0.1 and clients' requests reach it only forwarded under `/api`, so nobody else can make
    /// it. Otherwise (the local run) the timer route needs an admin credential like any admin route.
    public let trustsHostTimerCalls: Bool
    public let logger: Logger
    let routes = RouteTable.api

    /// Function names (folders under `functions/`) the host may POST default-mode invocations to.
    public static let httpFunctionNames: Set<String> = ["search", "add", "memory", "compact-now"]
    public static let timerFunctionName = "compact"

    public init(role: HandlerRole, authenticator: Authenticator, service: ServiceHandle,
                maxBodyBytes: Int = RuntimeConfiguration.defaultMaxBodyBytes, trustsHostTimerCalls: Bool = false,
                logger: Logger) {
        self.role = role
        self.authenticator = authenticator
        self.service = service
        self.maxBodyBytes = maxBodyBytes
        self.trustsHostTimerCalls = trustsHostTimerCalls
        self.logger = logger
    }

    /// Answers one request. Never throws: every failure is a JSON error response.
    public func handle(_ request: APIRequest) async -> APIResponse {
        let started = ContinuousClock.now
        let invocationId = request.header("x-azure-functions-invocationid")
        let requestId = invocationId ?? UUID().uuidString
        let segments = RouteTable.segments(of: request.path)

        // Readiness and health: the host polls `GET /` every 25 ms from process start.
        if segments.isEmpty && (request.method == "GET" || request.method == "HEAD") {
            return APIResponse.json(["status": "ok", "role": role.rawValue])
        }
        // Default-mode invocations: `POST /{functionName}` (never under `/api`).
        if request.method == "POST", segments.count == 1, !request.path.lowercased().hasPrefix("/api"),
           let name = segments.first?.lowercased() {
            if name == Self.timerFunctionName {
                return await timer(request, requestId: requestId, invocationId: invocationId, started: started)
            }
            if Self.httpFunctionNames.contains(name) {
                return await envelope(request, function: name, requestId: requestId, invocationId: invocationId, started: started)
            }
        }
        let (response, meta) = await route(request, requestId: requestId)
        log(request, response: response, meta: meta, requestId: requestId, invocationId: invocationId, started: started)
        return response
    }

    struct Outcome: Sendable {
        var route: String = "unmatched"
        var tenant: String?
        var cause: String?
    }

    /// Routes an API request (forwarded, local, or unwrapped from an envelope).
    func route(_ request: APIRequest, requestId: String) async -> (APIResponse, Outcome) {
        var meta = Outcome()
        do {
            switch routes.match(method: request.method, path: request.path) {
            case .notFound:
                throw APIError(status: 404, code: "not_found", detail: "no route \(request.method) \(request.path.prefix(200))")
            case .methodNotAllowed(let allowed):
                throw APIError(status: 405, code: "method_not_allowed",
                               detail: "\(request.method) is not allowed on \(request.path.prefix(200)); use \(allowed.joined(separator: ", "))",
                               headers: ["Allow": allowed.joined(separator: ", ")])
            case .found(let endpoint, let parameters):
                meta.route = endpoint.rawValue
                guard role.serves(endpoint) else {
                    let app = endpoint.app?.executable ?? "any"
                    throw APIError(status: 404, code: "wrong_app",
                                   detail: "\(request.method) \(request.path.prefix(200)) is served by the \(app) function app, not \(role.executable); point this client at that app's URL")
                }
                let principal = try authenticator.authenticate(request)
                meta.tenant = principal.tenant
                guard principal.role >= endpoint.requiredRole else {
                    throw APIError(status: 403, code: "forbidden",
                                   detail: "this API key has the \(principal.role) role; \(endpoint.rawValue) needs \(endpoint.requiredRole)")
                }
                let idempotencyKey = request.header("idempotency-key")
                if let key = idempotencyKey, key.isEmpty || key.count > 200 {
                    throw APIError(status: 400, code: "invalid_idempotency_key",
                                   detail: "the Idempotency-Key header must be 1 to 200 characters")
                }
                let context = RequestContext(tenant: principal.tenant, requestId: requestId, idempotencyKey: idempotencyKey,
                                             isAdmin: principal.role >= .admin)
                let handlers = EndpointHandlers(handle: service)
                let body = try await handlers.run(endpoint, parameters: parameters, request: request,
                                                  principal: principal, context: context)
                return (APIResponse.json(body), meta)
            }
        } catch let error as APIError {
            return (error.response(requestId: requestId), meta)
        } catch let error as MemoryServiceError {
            return (APIError(error).response(requestId: requestId), meta)
        } catch let error as ConfigurationError {
            meta.cause = error.description
            return (APIError(status: 503, code: "service_unavailable", detail: error.description).response(requestId: requestId), meta)
        } catch {
            meta.cause = String(describing: error)
            let e = APIError(status: 500, code: "internal_error",
                             detail: "an unexpected error occurred; quote request id \(requestId) to the operator")
            return (e.response(requestId: requestId), meta)
        }
    }

    /// `POST /search|add|memory` with `{"Data":{"req":…}}`: unwrap, route, wrap the answer in `Outputs.res`.
    func envelope(_ request: APIRequest, function: String, requestId: String, invocationId: String?,
                  started: ContinuousClock.Instant) async -> APIResponse {
        let inner: APIRequest
        do throws(APIError) {
            let json = try EndpointHandlers.jsonBody(request)
            var unwrapped = try InvocationEnvelope.httpRequest(from: json, maxBodyBytes: maxBodyBytes)
            if unwrapped.headers["x-azure-functions-invocationid"] == nil, let invocationId {
                unwrapped.headers["x-azure-functions-invocationid"] = invocationId
            }
            inner = unwrapped
        } catch {
            // The host needs a 200 envelope to pass a status through; a broken envelope is still answered.
            let response = error.response(requestId: requestId)
            log(request, response: response, meta: Outcome(route: "envelope:\(function)"), requestId: requestId,
                invocationId: invocationId, started: started)
            return InvocationEnvelope.httpResponse(response, logs: ["\(function): \(error.detail)"])
        }
        let (response, meta) = await route(inner, requestId: requestId)
        var m = meta
        m.route = "envelope:\(function):\(meta.route)"
        log(inner, response: response, meta: m, requestId: requestId, invocationId: invocationId, started: started)
        return InvocationEnvelope.httpResponse(response, logs: ["\(inner.method) \(inner.path) -> \(response.status)"])
    }

    /// `POST /compact` with `{"Data":{"timer":…}}`: compact every tenant's partitions (the host's timer call),
    /// or the caller's tenant (an admin credential, e.g. in the local run). Answers the timer envelope; with a
    /// failed partition the status is 500, which the host records as a failed invocation (the `Logs` say which
    /// partitions, by hashed id, and what to do). The answer names no ids.
    func timer(_ request: APIRequest, requestId: String, invocationId: String?, started: ContinuousClock.Instant) async -> APIResponse {
        var meta = Outcome(route: "timer:compact")
        guard role.servesTimer else {
            let e = APIError(status: 404, code: "wrong_app", detail: "the compact timer is served by memory-compact, not \(role.executable)")
            let response = e.response(requestId: requestId)
            log(request, response: response, meta: meta, requestId: requestId, invocationId: invocationId, started: started)
            return response
        }
        var logs: [String] = []
        var status = 200
        do throws(APIError) {
            var tenant: String? = nil
            if !(trustsHostTimerCalls && invocationId != nil) {
                let principal = try authenticator.authenticate(request)
                meta.tenant = principal.tenant
                guard principal.role >= .admin else {
                    throw APIError(status: 403, code: "forbidden",
                                   detail: "this credential has the \(principal.role) role; the compact timer needs admin")
                }
                tenant = principal.tenant
            }
            let json = try EndpointHandlers.jsonBody(request)
            let timer = try TimerInvocation(envelope: json)
            if timer.isPastDue { logs.append("timer is past due; compacting now") }
            let backend = try await service.backend()
            let summary = await backend.compactAll(tenant: tenant)
            logs.append(summary.headline)
            logs.append(contentsOf: summary.messages)
            if summary.failed > 0 {
                status = 500
                logs.append("compaction failed for \(summary.failed) partition(s); they stay readable and writable, the next run retries")
            }
        } catch {
            if error.status == 401 || error.status == 403 {
                let response = error.response(requestId: requestId)
                log(request, response: response, meta: meta, requestId: requestId, invocationId: invocationId, started: started)
                return response
            }
            logs.append("compaction did not run: \(error.detail)")
            status = error.status
        }
        var response = InvocationEnvelope.outputs(.object([:]), logs: logs)
        response.status = status
        meta.cause = status == 200 ? nil : logs.last
        log(request, response: response, meta: meta, requestId: requestId, invocationId: invocationId, started: started)
        return response
    }

    func log(_ request: APIRequest, response: APIResponse, meta: Outcome, requestId: String, invocationId: String?,
             started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": .string(requestId),
            "method": .string(request.method),
            "path": .string(String(request.path.prefix(300))),
            "route": .string(meta.route),
            "status": .stringConvertible(response.status),
            "duration_ms": .string(String(format: "%.2f", ms)),
            "role": .string(role.rawValue),
        ]
        if let invocationId { metadata["invocation_id"] = .string(invocationId) }
        if let tenant = meta.tenant { metadata["tenant"] = .string(tenant) }
        if let cause = meta.cause { metadata["cause"] = .string(cause) }
        if response.status >= 500 {
            logger.error("request failed", metadata: metadata)
        } else {
            logger.info("request", metadata: metadata)
        }
    }
}
