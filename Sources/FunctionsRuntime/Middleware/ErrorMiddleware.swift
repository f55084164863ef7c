import Hummingbird

/// The router's outermost middleware: turns whatever a route or middleware throws into an ``APIError``
/// carrying the request id (``APIError/mapped(_:requestId:request:)``), records the cause of an unexpected
/// failure for the log line, and rethrows it for the router to answer. Also sees the router's own "no route"
/// 404 and makes it the API's `not_found`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (mapped, cause) = APIError.mapped(error, requestId: context.requestId, request: request)
            if let cause { context.log.update { $0.cause = cause } }
            throw mapped
        }
    }
}
