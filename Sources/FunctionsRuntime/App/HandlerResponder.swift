import Hummingbird

/// The whole request path of a handler, as the Hummingbird application's responder:
/// ``RequestLogMiddleware`` (request id, one log line, last-resort error answer) around
/// ``FunctionsInvocationResponder`` (invocation envelopes and the timer) around the API router
/// (``HandlerRouter``).
public struct HandlerResponder: HTTPResponder {
    public typealias Context = MemoryRequestContext
    let log: RequestLogMiddleware
    let functions: FunctionsInvocationResponder<RouterResponder<MemoryRequestContext>>

    public func respond(to request: Request, context: Context) async throws -> Response {
        try await log.handle(request, context: context) { request, context in
            try await functions.respond(to: request, context: context)
        }
    }
}
