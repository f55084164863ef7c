import Hummingbird

/// The API's URL space on Hummingbird's router: method + path template → ``Endpoint``, each route behind the
/// middleware it needs.
///
/// Every template is registered plain and under `api/` (the Functions route prefix); the router compares
/// case-insensitively and ignores empty segments, so the trailing slash is optional. `{name}` captures one
/// segment (percent-decoded by ``EndpointResponder``). A known path with another method is a 405 with `Allow`
/// (``MethodNotAllowedMiddleware``).
enum APIRoutes {
    static let table: [(method: HTTPRequest.Method, path: String, endpoint: Endpoint)] = [
        (.get, "v1/ping", .ping),
        (.post, "v3/memories/add", .add),
        (.post, "v1/memories/add", .add),
        (.post, "v3/memories/search", .search),
        (.post, "v2/memories/search", .search),
        (.post, "v3/memories", .list),
        (.post, "v2/memories", .list),
        (.delete, "v1/memories", .deleteAll),
        (.get, "v1/memories/{id}", .get),
        (.put, "v1/memories/{id}", .update),
        (.delete, "v1/memories/{id}", .delete),
        (.get, "v1/memories/{id}/history", .history),
        (.put, "v1/batch", .batchUpdate),
        (.delete, "v1/batch", .batchDelete),
        (.get, "v1/entities", .entities),
        (.delete, "v2/entities/{type}/{id}", .deleteEntity),
        (.post, "v1/exports", .exportCreate),
        (.post, "v1/exports/get", .exportGet),
        // Functions reserves route templates starting with `admin`, so function.json uses `v1/admin/compact`.
        (.post, "v1/admin/compact", .compactNow),
        (.post, "admin/compact", .compactNow),
    ]

    /// The API routes; each runs ``AppGateMiddleware`` (wrong app → 404), then ``AuthMiddleware`` (401/403/503),
    /// then ``EndpointResponder``.
    static func register(on router: Router<MemoryRequestContext>, role: HandlerRole, authenticator: Authenticator,
                         handlers: EndpointHandlers) {
        for route in table {
            for prefix in ["", "api/"] {
                router.group()
                    .add(middleware: AppGateMiddleware(endpoint: route.endpoint, role: role))
                    .add(middleware: AuthMiddleware(authenticator: authenticator, endpoint: route.endpoint))
                    .on(RouterPath(prefix + route.path), method: route.method,
                        responder: EndpointResponder(endpoint: route.endpoint, handlers: handlers))
            }
        }
    }

    /// The MCP endpoint's paths (``MCPHTTPEndpoint``): the Streamable HTTP transport answers `POST`; `GET` and
    /// `DELETE` (a stream, a session to end) are routed to it too so it answers them with its own 405.
    static let mcpPaths = ["mcp", "api/mcp"]
    static let mcpMethods: [HTTPRequest.Method] = [.post, .get, .delete]

    /// The MCP routes: ``AppGateMiddleware`` (only `memory-local` serves them; other roles 404 `wrong_app`), then
    /// ``AuthMiddleware`` (any valid credential; each tool checks the role it needs), then ``MCPHTTPEndpoint``.
    static func registerMCP(on router: Router<MemoryRequestContext>, role: HandlerRole, authenticator: Authenticator,
                            endpoint: MCPHTTPEndpoint) {
        let group = router.group()
            .add(middleware: AppGateMiddleware.mcp(role: role))
            .add(middleware: AuthMiddleware(authenticator: authenticator, route: "mcp", requiredRole: .read))
        for path in mcpPaths {
            for method in mcpMethods {
                group.on(RouterPath(path), method: method, responder: endpoint)
            }
        }
    }

    /// A router over the same templates that answers `GET` on each with the methods the path serves in `Allow`
    /// (for ``MethodNotAllowedMiddleware``: it resolves paths exactly as the API router does).
    static func allowedMethodsIndex() -> RouterResponder<MemoryRequestContext> {
        var allowed: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in table {
            if allowed[route.path] == nil { order.append(route.path) }
            allowed[route.path, default: []].append(route.method)
        }
        let index = Router(context: MemoryRequestContext.self, options: .caseInsensitive)
        for path in order {
            let list = (allowed[path] ?? []).map(\.rawValue).joined(separator: ", ")
            for prefix in ["", "api/"] {
                index.get(RouterPath(prefix + path)) { _, _ in Response(status: .ok, headers: [.allow: list]) }
            }
        }
        for path in mcpPaths {
            // One endpoint whatever the method, so the refusal is logged as the MCP route's.
            index.get(RouterPath(path)) { _, context in
                context.log.update { $0.route = "mcp" }
                return Response(status: .ok, headers: [.allow: "POST"])
            }
        }
        return index.buildResponder()
    }
}
