import Foundation

/// The API's URL space: method + path template → ``Endpoint``.
///
/// Paths are matched segment by segment after dropping an optional leading `api` segment (the Functions
/// route prefix) and empty segments (so the trailing slash is optional). `{name}` segments capture one
/// percent-decoded segment.
public struct RouteTable: Sendable {
    struct Route: Sendable {
        var method: String
        var segments: [String]
        var endpoint: Endpoint
    }

    /// The outcome of matching a request.
    public enum Match: Sendable, Equatable {
        case found(Endpoint, parameters: [String: String])
        /// The path exists, not with this method; `allowed` lists the methods that exist.
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    let routes: [Route]

    public static let api = RouteTable([
        ("GET", "v1/ping", .ping),
        ("POST", "v3/memories/add", .add),
        ("POST", "v1/memories/add", .add),
        ("POST", "v3/memories/search", .search),
        ("POST", "v2/memories/search", .search),
        ("POST", "v3/memories", .list),
        ("POST", "v2/memories", .list),
        ("DELETE", "v1/memories", .deleteAll),
        ("GET", "v1/memories/{id}", .get),
        ("PUT", "v1/memories/{id}", .update),
        ("DELETE", "v1/memories/{id}", .delete),
        ("GET", "v1/memories/{id}/history", .history),
        ("PUT", "v1/batch", .batchUpdate),
        ("DELETE", "v1/batch", .batchDelete),
        ("GET", "v1/entities", .entities),
        ("DELETE", "v2/entities/{type}/{id}", .deleteEntity),
        ("POST", "v1/exports", .exportCreate),
        ("POST", "v1/exports/get", .exportGet),
        // Functions reserves route templates starting with `admin`, so function.json uses `v1/admin/compact`.
        ("POST", "v1/admin/compact", .compactNow),
        ("POST", "admin/compact", .compactNow),
    ])

    init(_ table: [(String, String, Endpoint)]) {
        routes = table.map { Route(method: $0.0, segments: $0.1.split(separator: "/").map(String.init), endpoint: $0.2) }
    }

    /// Path segments, percent-decoded, without the `api` prefix and empty segments.
    public static func segments(of path: String) -> [String] {
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var parts = pathOnly.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0.removingPercentEncoding ?? String($0) }
        if parts.first?.lowercased() == "api" { parts.removeFirst() }
        return parts
    }

    public func match(method: String, path: String) -> Match {
        let parts = Self.segments(of: path)
        var allowed: [String] = []
        // Literal segments win over captures: `v1/memories/search`-style literals are listed before `{id}`.
        for route in routes {
            guard let params = Self.bind(route.segments, parts) else { continue }
            if route.method == method { return .found(route.endpoint, parameters: params) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    static func bind(_ template: [String], _ parts: [String]) -> [String: String]? {
        guard template.count == parts.count else { return nil }
        var params: [String: String] = [:]
        for (t, p) in zip(template, parts) {
            if t.hasPrefix("{") && t.hasSuffix("}") {
                params[String(t.dropFirst().dropLast())] = p
            } else if t != p.lowercased() {
                return nil
            }
        }
        return params
    }
}
