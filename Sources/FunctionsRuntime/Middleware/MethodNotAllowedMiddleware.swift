import Hummingbird

/// Hummingbird's router answers a known path asked with a method it does not serve like an unknown path (its
/// "no route" 404). This middleware, the router's innermost, turns that into a 405 `method_not_allowed` with
/// `Allow`, for any method, asking ``APIRoutes/allowedMethodsIndex()`` which methods the path serves.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    let index: RouterResponder<MemoryRequestContext>

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let probe = Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: request.uri.path),
                                body: RequestBody(buffer: ByteBuffer()))
            guard let known = try? await index.respond(to: probe, context: context), known.status == .ok,
                  let allowed = known.headers[.allow] else { throw error }
            throw APIError(status: .methodNotAllowed, code: "method_not_allowed",
                           detail: "\(request.method.rawValue) is not allowed on \(request.uri.path.prefix(200)); use \(allowed)",
                           headers: ["Allow": allowed])
        }
    }
}
