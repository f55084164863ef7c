import Foundation
import Hummingbird
import MemoryCore

/// The last step of a routed request: reads the path parameters, query, `Idempotency-Key` and body from the
/// Hummingbird request, runs ``EndpointHandlers`` for the principal ``AuthMiddleware`` found, and answers the
/// JSON it returns.
struct EndpointResponder: HTTPResponder {
    typealias Context = MemoryRequestContext
    let endpoint: Endpoint
    let handlers: EndpointHandlers

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let principal = context.principal else {
            throw APIError(status: .internalServerError, code: "internal_error",
                           detail: "the route \(endpoint.rawValue) was reached without authentication; quote request id \(context.requestId) to the operator")
        }
        let idempotencyKey = request.headers[.idempotencyKey]
        if let key = idempotencyKey, key.isEmpty || key.count > 200 {
            throw APIError(status: .badRequest, code: "invalid_idempotency_key",
                           detail: "the Idempotency-Key header must be 1 to 200 characters")
        }
        var parameters: [String: String] = [:]
        for (name, value) in context.parameters {
            parameters[String(name)] = value.removingPercentEncoding ?? String(value)
        }
        let body = try await request.body.collect(upTo: .max)
        let input = EndpointInput(query: QueryString.parse(Substring(request.uri.query ?? "")),
                                  body: Data(body.readableBytesView), contentType: request.headers[.contentType])
        let serviceContext = MemoryCore.RequestContext(principal: principal, requestId: context.requestId,
                                                       idempotencyKey: idempotencyKey)
        let answer = try await handlers.run(endpoint, parameters: parameters, request: input,
                                            principal: principal, context: serviceContext)
        return Response.json(answer)
    }
}
