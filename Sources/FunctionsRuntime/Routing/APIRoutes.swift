import Hummingbird

/// The API's URL space on Hummingbird's router: method + path template → ``Endpoint``, each route behind the
/// middleware it needs.
///
/// Every template is registered plain and under `api/` (the Functions route prefix); the router compares
/// case-insensitively and ignores empty segments, so the trailing slash is optional. `{name}` captures one
/// segment (percent-decoded by ``EndpointResponder``). A known path with another method is a 405 with `Allow`.
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

    /// Every method HTTP defines: on a known path that does not serve it, a 405. (SwiftNIO's parser refuses
    /// unknown method names with a 400 before they reach the router.)
    static let refusedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, .connect]

    /// The API routes; each runs ``AppGateMiddleware`` (wrong app → 404), then ``AuthMiddleware`` (401/403),
    /// then ``EndpointResponder``.
    static func register(on router: Router<MemoryRequestContext>, role: HandlerRole, authenticator: Authenticator,
                         handlers: EndpointHandlers) {
        var allowed: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in table {
            if allowed[route.path] == nil { order.append(route.path) }
            allowed[route.path, default: []].append(route.method)
            for prefix in ["", "api/"] {
                router.group()
                    .add(middleware: AppGateMiddleware(endpoint: route.endpoint, role: role))
                    .add(middleware: AuthMiddleware(authenticator: authenticator, endpoint: route.endpoint))
                    .on(RouterPath(prefix + route.path), method: route.method,
                        responder: EndpointResponder(endpoint: route.endpoint, handlers: handlers))
            }
        }
        for path in order {
            let methods = allowed[path] ?? []
            let refusal = MethodNotAllowedResponder(allowed: methods)
            for method in refusedMethods where !methods.contains(method) {
                for prefix in ["", "api/"] {
                    router.on(RouterPath(prefix + path), method: method, responder: refusal)
                }
            }
        }
    }
}

/// A known path asked with a method it does not serve: 405 `method_not_allowed` with `Allow`.
struct MethodNotAllowedResponder: HTTPResponder {
    typealias Context = MemoryRequestContext
    let allowed: [HTTPRequest.Method]

    func respond(to request: Request, context: Context) async throws -> Response {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        throw APIError(status: .methodNotAllowed, code: "method_not_allowed",
                       detail: "\(request.method.rawValue) is not allowed on \(request.uri.path.prefix(200)); use \(list)",
                       headers: ["Allow": list])
    }
}
