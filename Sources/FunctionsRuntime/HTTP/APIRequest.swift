import Foundation

/// One HTTP request as the API layer sees it, independent of the server that received it: a forwarded request
/// from the Functions host, a local request, and the `req` of a default invocation envelope all become this,
/// so every path runs through the same router.
public struct APIRequest: Sendable {
    /// Upper-case method (`GET`, `POST`, …).
    public var method: String
    /// The raw path as received, still percent-encoded, with or without the `/api` prefix.
    public var path: String
    /// Query parameters, percent-decoded; a repeated key keeps the values joined with `,` (as the host does).
    public var query: [String: String]
    /// Header values by lower-cased name; repeated headers are joined with `,`.
    public var headers: [String: String]
    /// The raw body (empty when none was sent).
    public var body: Data

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: Data = Data()) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        var lowered: [String: String] = [:]
        for (k, v) in headers { lowered[k.lowercased()] = v }
        self.headers = lowered
        self.body = body
    }

    /// A header by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Splits `a=1&b=two%20words` into decoded pairs (`+` is a space); repeated keys are joined with `,`.
    public static func parseQuery(_ raw: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decodeComponent(parts[0])
            let value = parts.count > 1 ? decodeComponent(parts[1]) : ""
            guard !key.isEmpty else { continue }
            if let existing = out[key] { out[key] = existing + "," + value } else { out[key] = value }
        }
        return out
    }

    static func decodeComponent(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// An HTTP response produced by the API layer: status, headers, body bytes.
public struct APIResponse: Sendable {
    public var status: Int
    /// Header values by name (as sent; `Content-Type` is set by the factories).
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with `Content-Type: application/json`.
    public static func json(_ value: some Encodable, status: Int = 200) -> APIResponse {
        let data = (try? JSONCoding.encoder.encode(value)) ?? Data("{}".utf8)
        return APIResponse(status: status, headers: ["Content-Type": "application/json"], body: data)
    }
}

/// Shared JSON coders (configured once; both are thread-safe for concurrent use).
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()
    static let decoder = JSONDecoder()
}
