import Foundation
import JSONModel

/// The Functions host's default-mode invocation (`POST /{functionName}` with `{"Data":…,"Metadata":…}`,
/// reference §1.6) and its answer (§1.7).
///
/// Parsing is lenient where the host varies: `Query` as an object or a JSON string, header values as arrays
/// or strings, a missing `Body`, a `Body` that is an object rather than a string, a `null` `ScheduleStatus`.
public enum InvocationEnvelope {
    /// The HTTP request carried in `Data.req` (or the first `Data` entry that looks like one), as an
    /// ``APIRequest`` ready for the router. Throws a 400 ``APIError`` when the envelope has no request.
    public static func httpRequest(from envelope: JSONValue, maxBodyBytes: Int) throws(APIError) -> APIRequest {
        guard case .object(let data)? = envelope["Data"] else {
            throw APIError(status: 400, code: "invalid_envelope", detail: "the invocation has no `Data` object")
        }
        let req: [String: JSONValue]
        if case .object(let r)? = data["req"] {
            req = r
        } else if let r = data.values.compactMap({ $0.objectValue }).first(where: { $0["Method"] != nil || $0["Url"] != nil }) {
            req = r
        } else {
            throw APIError(status: 400, code: "invalid_envelope", detail: "the invocation has no HTTP request in `Data.req`")
        }
        let method = req["Method"]?.stringValue ?? "GET"
        var path = "/"
        var query: [String: String] = [:]
        if let url = req["Url"]?.stringValue {
            let (p, q) = splitURL(url)
            path = p
            query = APIRequest.parseQuery(q)
        }
        for (k, v) in objectOrEncodedObject(req["Query"]) {
            query[k] = scalarString(v)
        }
        var headers: [String: String] = [:]
        for (k, v) in objectOrEncodedObject(req["Headers"]) {
            switch v {
            case .array(let values): headers[k] = values.map(scalarString).joined(separator: ",")
            default: headers[k] = scalarString(v)
            }
        }
        var body = Data()
        switch req["Body"] {
        case .string(let s)?:
            body = Data(s.utf8)
            if let type = headers.first(where: { $0.key.lowercased() == "content-type" })?.value.lowercased(),
               type.hasPrefix("application/octet-stream") || type.hasPrefix("multipart/"),
               let decoded = Data(base64Encoded: s) {
                body = decoded
            }
        case nil, .null?: break
        case let other?: body = (try? JSONCoding.encoder.encode(other)) ?? Data()
        }
        guard body.count <= maxBodyBytes else { throw APIError.tooLarge(limit: maxBodyBytes) }
        return APIRequest(method: method, path: path, query: query, headers: headers, body: body)
    }

    /// The answer to the host: always HTTP 200 JSON, the real status inside `Outputs.res`.
    public static func httpResponse(_ response: APIResponse, logs: [String]) -> APIResponse {
        var headers = response.headers
        if headers.keys.first(where: { $0.lowercased() == "content-type" }) == nil {
            headers["Content-Type"] = "application/json"
        }
        let res: JSONValue = .object([
            "statusCode": .number(Double(response.status)),
            "headers": .object(headers.mapValues { .string($0) }),
            "body": .string(String(decoding: response.body, as: UTF8.self)),
        ])
        return outputs(.object(["res": res]), logs: logs)
    }

    /// `{"Outputs":…,"Logs":[…],"ReturnValue":null}` with status 200.
    public static func outputs(_ outputs: JSONValue, logs: [String]) -> APIResponse {
        let envelope: JSONValue = .object([
            "Outputs": outputs,
            "Logs": .array(logs.map { .string($0) }),
            "ReturnValue": .null,
        ])
        return APIResponse.json(envelope)
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

/// The timer trigger's `Data.timer` (reference §1.6): only `IsPastDue` and the schedule's last run matter.
public struct TimerInvocation: Sendable, Equatable {
    public var isPastDue: Bool
    /// `ScheduleStatus.Last` as sent (nil when `ScheduleStatus` is null or absent).
    public var last: String?

    public init(envelope: JSONValue) throws(APIError) {
        guard case .object(let data)? = envelope["Data"] else {
            throw APIError(status: 400, code: "invalid_envelope", detail: "the timer invocation has no `Data` object")
        }
        let timer = data["timer"]?.objectValue ?? data.values.compactMap({ $0.objectValue }).first ?? [:]
        switch timer["IsPastDue"] {
        case .bool(let b)?: isPastDue = b
        case .string(let s)?: isPastDue = s.lowercased() == "true"
        default: isPastDue = false
        }
        last = timer["ScheduleStatus"]?["Last"]?.stringValue
    }
}
