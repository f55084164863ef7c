import Hummingbird

/// Resolves the request's credential (an API key, an Entra ID token, or App Service Authentication's principal
/// header: ``Authenticator``) to a ``Principal`` and checks it has the role the route needs; the principal goes
/// into the context for the route and its tenant into the log line.
///
/// Refusals: 401 without a valid credential, 403 without the role (or, for an Entra caller, without any app
/// role), 503 when a token's issuer keys cannot be fetched. The log line's `cause` says why (the error's detail,
/// which never quotes the credential); the client gets the same detail.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    let authenticator: Authenticator
    /// The route's name in the 403's detail (an ``Endpoint``'s, or `mcp`).
    let route: String
    let requiredRole: Role

    init(authenticator: Authenticator, endpoint: Endpoint) {
        self.init(authenticator: authenticator, route: endpoint.rawValue, requiredRole: endpoint.requiredRole)
    }

    init(authenticator: Authenticator, route: String, requiredRole: Role) {
        self.authenticator = authenticator
        self.route = route
        self.requiredRole = requiredRole
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try await Self.principal(request.headers, authenticator: authenticator, context: context)
        guard principal.role >= requiredRole else {
            throw Self.refused(APIError(status: .forbidden, code: "forbidden",
                                        detail: "this credential has the \(principal.role) role; \(route) needs \(requiredRole)"),
                               context: context)
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

    /// The caller's principal, its tenant recorded for the log line; a refusal's reason is recorded as the
    /// line's `cause`. Also used by the timer, which is answered outside the router.
    static func principal(_ headers: HTTPFields, authenticator: Authenticator,
                          context: Context) async throws(APIError) -> Principal {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers)
        } catch {
            throw refused(error, context: context)
        }
        context.log.update { $0.tenant = principal.tenant }
        return principal
    }

    /// `error`, after recording its detail as the log line's `cause`.
    static func refused(_ error: APIError, context: Context) -> APIError {
        context.log.update { $0.cause = error.detail }
        return error
    }
}
