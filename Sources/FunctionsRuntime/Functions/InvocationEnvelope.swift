import Foundation
import Hummingbird
import JSONModel

/// The Functions host's default-mode invocation (`POST /{functionName}` with `{"Data":…,"Metadata":…}`,
/// reference §1.6) and its answer (§1.7).
///
/// Parsing is lenient where the host varies: `Query` as an object or a JSON string, header values as arrays
/// or strings, a missing `Body`, a `Body` that is an object rather than a string (the timer's: ``TimerInvocation``).
public enum InvocationEnvelope {
    /// The HTTP request carried in `Data.req` (or the first `Data` entry that looks like one), as a Hummingbird
    /// request ready for the router. The host's `invocationId` is added as `X-Azure-Functions-InvocationId` when
    /// the inner request has none. Throws a 400 ``APIError`` when the envelope has no usable request, 413 when
    /// its body exceeds `maxBodyBytes`.
    public static func httpRequest(from envelope: JSONValue, maxBodyBytes: Int, invocationId: String? = nil) throws(APIError) -> Request {
        guard case .object(let data)? = envelope["Data"] else {
            throw APIError(status: .badRequest, code: "invalid_envelope", detail: "the invocation has no `Data` object")
        }
        let req: [String: JSONValue]
        if case .object(let r)? = data["req"] {
            req = r
        } else if let r = data.values.compactMap({ $0.objectValue }).first(where: { $0["Method"] != nil || $0["Url"] != nil }) {
            req = r
        } else {
            throw APIError(status: .badRequest, code: "invalid_envelope", detail: "the invocation has no HTTP request in `Data.req`")
        }
        let methodName = (req["Method"]?.stringValue ?? "GET").uppercased()
        guard let method = HTTPRequest.Method(methodName) else {
            throw APIError(status: .badRequest, code: "invalid_envelope", detail: "`Data.req.Method` '\(methodName.prefix(20))' is not an HTTP method")
        }
        var path = "/"
        var query: [String: String] = [:]
        if let url = req["Url"]?.stringValue {
            let (p, q) = splitURL(url)
            path = p.hasPrefix("/") ? p : "/" + p
            query = QueryString.parse(q)
        }
        for (k, v) in objectOrEncodedObject(req["Query"]) {
            query[k] = scalarString(v)
        }
        var headers = HTTPFields()
        for (k, v) in objectOrEncodedObject(req["Headers"]) {
            guard let name = HTTPField.Name(k) else { continue }
            switch v {
            case .array(let values): headers[name] = values.map(scalarString).joined(separator: ",")
            default: headers[name] = scalarString(v)
            }
        }
        if headers[.functionsInvocationId] == nil, let invocationId {
            headers[.functionsInvocationId] = invocationId
        }
        var body = Data()
        switch req["Body"] {
        case .string(let s)?:
            body = Data(s.utf8)
            if let type = headers[.contentType]?.lowercased(),
               type.hasPrefix("application/octet-stream") || type.hasPrefix("multipart/"),
               let decoded = Data(base64Encoded: s) {
                body = decoded
            }
        case nil, .null?: break
        case let other?: body = (try? JSONCoding.encoder.encode(other)) ?? Data()
        }
        guard body.count <= maxBodyBytes else { throw APIError.tooLarge(limit: maxBodyBytes) }
        let target = query.isEmpty ? path : path + "?" + QueryString.encode(query)
        let head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: target, headerFields: headers)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
    }

    /// The answer to the host: always HTTP 200 JSON, the inner response's status, headers and body (as a string)
    /// inside `Outputs.res`.
    public static func httpResponse(_ response: Response, logs: [String]) async throws -> Response {
        var headers: [String: JSONValue] = [:]
        for field in response.headers where field.name != .contentLength && field.name != .transferEncoding {
            let name = field.name.rawName
            if case .string(let existing)? = headers[name] {
                headers[name] = .string(existing + ", " + field.value)
            } else {
                headers[name] = .string(field.value)
            }
        }
        if response.headers[.contentType] == nil { headers["Content-Type"] = .string("application/json") }
        let body = try await BodyCollector.collect(response.body)
        let res: JSONValue = .object([
            "statusCode": .number(Double(response.status.code)),
            "headers": .object(headers),
            "body": .string(String(decoding: body.readableBytesView, as: UTF8.self)),
        ])
        return outputs(.object(["res": res]), logs: logs)
    }

    /// `{"Outputs":…,"Logs":[…],"ReturnValue":null}`, status 200 unless `status` says otherwise.
    public static func outputs(_ outputs: JSONValue, logs: [String], status: HTTPResponse.Status = .ok) -> Response {
        let envelope: JSONValue = .object([
            "Outputs": outputs,
            "Logs": .array(logs.map { .string($0) }),
            "ReturnValue": .null,
        ])
        return Response.json(envelope, status: status)
    }

    static func splitURL(_ url: String) -> (path: String, query: Substring) {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            if let slash = rest.firstIndex(of: "/") { rest = rest[slash...] } else { rest = "/" }
        }
        if let q = rest.firstIndex(of: "?") {
            return (String(rest[..<q]), rest[rest.index(after: q)...])
        }
        return (String(rest), "")
    }

    /// An object, or a string holding a JSON object (DOC-CH's older samples show `"Query": "{}"`).
    static func objectOrEncodedObject(_ v: JSONValue?) -> [String: JSONValue] {
        switch v {
        case .object(let o)?: return o
        case .string(let s)?:
            if let decoded = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(s.utf8)), case .object(let o) = decoded {
                return o
            }
            return [:]
        default: return [:]
        }
    }

    static func scalarString(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        default: return String(decoding: (try? JSONCoding.encoder.encode(v)) ?? Data(), as: UTF8.self)
        }
    }
}
