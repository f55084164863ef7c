import Foundation
import Hummingbird

/// Shared JSON coders (configured once; both are thread-safe for concurrent use).
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()
    static let decoder = JSONDecoder()
}

extension Response {
    /// A JSON response with `Content-Type: application/json`.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONCoding.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    /// The Functions host's per-invocation id, sent with every forwarded request and invocation.
    static let functionsInvocationId = HTTPField.Name("X-Azure-Functions-InvocationId")!
    static let apiKey = HTTPField.Name("X-API-Key")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
