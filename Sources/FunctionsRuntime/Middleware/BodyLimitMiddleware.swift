import Hummingbird

/// Reads the request body into memory up to `MEMORY_MAX_BODY_BYTES` before anything else looks at it; a larger
/// body (announced by `Content-Length` or found while reading) is a 413 `body_too_large`.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = MemoryRequestContext
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        _ = try await Self.collect(&request, upTo: maxBodyBytes)
        return try await next(request, context)
    }

    /// The body, collected into `request`; throws ``APIError`` 413 beyond `limit`.
    static func collect(_ request: inout Request, upTo limit: Int) async throws(APIError) -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        do {
            return try await request.collectBody(upTo: limit)
        } catch {
            throw APIError.tooLarge(limit: limit)
        }
    }
}
