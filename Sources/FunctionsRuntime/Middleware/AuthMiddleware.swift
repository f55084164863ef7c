import Hummingbird

/// Resolves the API key to a ``Principal`` (401 without a known key) and checks it has the role the route needs
/// (403 otherwise); the principal goes into the context for the route and its tenant into the log line.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    let authenticator: Authenticator
    let endpoint: Endpoint

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try authenticator.authenticate(request.headers)
        context.log.update { $0.tenant = principal.tenant }
        guard principal.role >= endpoint.requiredRole else {
            throw APIError(status: .forbidden, code: "forbidden",
                           detail: "this API key has the \(principal.role) role; \(endpoint.rawValue) needs \(endpoint.requiredRole)")
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }
}
