import Hummingbird

/// In the split topology each function app serves only its routes: a route of another app is a 404
/// `wrong_app` that names the app to call instead (checked before authentication). Also names the route for
/// the log line.
struct AppGateMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    let endpoint: Endpoint
    let role: HandlerRole

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        context.log.update { $0.route = endpoint.rawValue }
        guard role.serves(endpoint) else {
            let app = endpoint.app?.executable ?? "any"
            throw APIError(status: .notFound, code: "wrong_app",
                           detail: "\(request.method.rawValue) \(request.uri.path.prefix(200)) is served by the \(app) function app, not \(role.executable); point this client at that app's URL")
        }
        return try await next(request, context)
    }
}
