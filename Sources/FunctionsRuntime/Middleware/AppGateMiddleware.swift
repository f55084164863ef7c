import Hummingbird

/// In the split topology each function app serves only its routes: a route of another app is a 404
/// `wrong_app` that names the app to call instead (checked before authentication). Also names the route for
/// the log line.
struct AppGateMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    /// The route's name in the log line (an ``Endpoint``'s, or `mcp`).
    let route: String
    /// Nil when this role serves the route; else who does, as the 404 names it.
    let servedElsewhereBy: String?
    let role: HandlerRole

    init(endpoint: Endpoint, role: HandlerRole) {
        route = endpoint.rawValue
        servedElsewhereBy = role.serves(endpoint) ? nil : "the \(endpoint.app?.executable ?? "any") function app"
        self.role = role
    }

    /// The MCP endpoint's gate: its tools read and write, so only `memory-local` serves it.
    static func mcp(role: HandlerRole) -> AppGateMiddleware {
        AppGateMiddleware(route: "mcp", role: role,
                          servedElsewhereBy: role.servesMCP ? nil : "memory-local (the local run and the MCP function app)")
    }

    private init(route: String, role: HandlerRole, servedElsewhereBy: String?) {
        self.route = route
        self.role = role
        self.servedElsewhereBy = servedElsewhereBy
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        context.log.update { $0.route = route }
        if let servedElsewhereBy {
            throw APIError(status: .notFound, code: "wrong_app",
                           detail: "\(request.method.rawValue) \(request.uri.path.prefix(200)) is served by \(servedElsewhereBy), not \(role.executable); point this client at that app's URL")
        }
        return try await next(request, context)
    }
}
