import Hummingbird

/// Builds the Hummingbird router of a handler: readiness, then the API routes behind the router-wide
/// middleware (``ErrorMiddleware``, ``BodyLimitMiddleware``, ``MethodNotAllowedMiddleware``) and each route's
/// own (``APIRoutes``), and the MCP endpoint (`/mcp`) behind the same.
enum HandlerRouter {
    static func make(role: HandlerRole, authenticator: Authenticator, service: ServiceHandle,
                     maxBodyBytes: Int) -> Router<MemoryRequestContext> {
        let router = Router(context: MemoryRequestContext.self, options: .caseInsensitive)
        // Readiness and health: the host polls `GET /` every 25 ms from process start. Registered before the
        // middleware: no authentication, no body, no storage, no log line.
        for path in ["/", "api"] {
            for method in [HTTPRequest.Method.get, .head] {
                router.on(RouterPath(path), method: method) { _, context -> Response in
                    context.log.update { $0.quiet = true }
                    return Response.json(["status": "ok", "role": role.rawValue])
                }
            }
        }
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBodyBytes: maxBodyBytes))
        router.add(middleware: MethodNotAllowedMiddleware(index: APIRoutes.allowedMethodsIndex()))
        APIRoutes.register(on: router, role: role, authenticator: authenticator,
                           handlers: EndpointHandlers(handle: service))
        APIRoutes.registerMCP(on: router, role: role, authenticator: authenticator,
                              endpoint: MCPHTTPEndpoint(service: service))
        return router
    }
}
