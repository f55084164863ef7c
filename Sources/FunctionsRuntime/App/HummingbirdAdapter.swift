import Foundation
import Hummingbird


/// Serves a ``MemoryHTTPHandler`` with Hummingbird: converts requests (collecting the body up to the limit,
/// 413 beyond it) and responses. The only file that knows Hummingbird's request and response types.
public struct HummingbirdAdapter: HTTPResponder {
    public typealias Context = BasicRequestContext
    public let handler: MemoryHTTPHandler

    public init(handler: MemoryHTTPHandler) {
        self.handler = handler
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let apiRequest: APIRequest
        do {
            apiRequest = try await Self.apiRequest(request, maxBodyBytes: envelopeLimit(for: request))
        } catch let error as APIError {
            let invocationId = request.headers.first { $0.name.canonicalName == "x-azure-functions-invocationid" }?.value
            let requestId = invocationId ?? UUID().uuidString
            let response = error.response(requestId: requestId)
            handler.log(APIRequest(method: request.method.rawValue, path: request.uri.path), response: response,
                        meta: .init(route: "body_limit"), requestId: requestId, invocationId: invocationId, started: .now)
            return Self.response(response)
        }
        return Self.response(await handler.handle(apiRequest))
    }

    /// Default-mode envelopes wrap the client's body (as a JSON string, so escaped), so they may be larger than
    /// the client body limit; the inner body is checked against the limit after unwrapping.
    func envelopeLimit(for request: Request) -> Int {
        let path = request.uri.path
        let isFunctionCall = request.method == .post && !path.dropFirst().contains("/") && !path.lowercased().hasPrefix("/api")
        return isFunctionCall ? handler.maxBodyBytes * 2 + 65_536 : handler.maxBodyBytes
    }

    static func apiRequest(_ request: Request, maxBodyBytes: Int) async throws -> APIRequest {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw APIError.tooLarge(limit: maxBodyBytes)
        }
        var body = Data()
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            body = Data(buffer.readableBytesView)
        } catch {
            throw APIError.tooLarge(limit: maxBodyBytes)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] { headers[name] = existing + "," + field.value } else { headers[name] = field.value }
        }
        return APIRequest(method: request.method.rawValue, path: request.uri.path,
                          query: APIRequest.parseQuery(Substring(request.uri.query ?? "")), headers: headers, body: body)
    }

    static func response(_ r: APIResponse) -> Response {
        var fields = HTTPFields()
        for (k, v) in r.headers {
            // `HTTPField` itself is not re-exported by Hummingbird; reach it through `HTTPFields.Element`.
            if let name = HTTPFields.Element.Name(k) { fields[name] = v }
        }
        return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }
}
