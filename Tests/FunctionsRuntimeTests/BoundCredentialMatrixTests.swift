import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import JSONModel
import Logging
import MemoryStorage
import Testing

/// Credentials bound to one `user_id` on every route, on the real service: a bound key reaches its own user's
/// memories; another user's ids are 404 (no existence leak), scopes naming another user 403 `user_not_allowed`,
/// user-less (agent-wide, tenant-wide) requests 403 `user_scope_required`. Unbound keys reach all three.
@Suite struct BoundCredentialMatrixTests {
    enum Keys {
        static let unbound = "matrix-unbound-write"
        static let admin = "matrix-unbound-admin"
        static let bound = "matrix-bound-alice"
        static let boundAdmin = "matrix-bound-alice-admin"
        static let setting = [
            "acme:write:\(APIKeyTable.hash(key: unbound))", "acme:admin:\(APIKeyTable.hash(key: admin))",
            "acme:write:\(APIKeyTable.hash(key: bound)):alice", "acme:admin:\(APIKeyTable.hash(key: boundAdmin)):alice",
        ].joined(separator: ";")
    }

    enum Target: String, CaseIterable { case own, other, none }

    /// Fresh memories (and exports) for alice (own), bob (other) and an agent without a user (none).
    struct Seed {
        var memory: [Target: String] = [:]
        var export: [Target: String] = [:]
        let agent = "bot-\(UUID().uuidString.prefix(6).lowercased())"

        func scope(_ t: Target) -> String {
            switch t {
            case .own: #""user_id":"alice""#
            case .other: #""user_id":"bob""#
            case .none: #""agent_id":"\#(agent)""#
            }
        }

        func query(_ t: Target) -> String {
            switch t {
            case .own: "user_id=alice"
            case .other: "user_id=bob"
            case .none: "agent_id=\(agent)"
            }
        }
    }

    /// One route: the request for a target, and what a bound credential gets per target (status, code).
    struct Case {
        var route: String
        var request: @Sendable (Seed, Target) -> (HTTPRequest.Method, String, String?)
        var bound: [Target: (Int, String?)]
    }

    static let forbiddenScopes: [Target: (Int, String?)] = [.own: (200, nil), .other: (403, "user_not_allowed"), .none: (403, "user_scope_required")]
    static let hiddenIds: [Target: (Int, String?)] = [.own: (200, nil), .other: (404, "memory_not_found"), .none: (404, "memory_not_found")]

    static let cases: [Case] = [
        Case(route: "add", request: { s, t in (.post, "/v3/memories/add/", #"{"messages":"likes tea",\#(s.scope(t)),"infer":false}"#) },
             bound: forbiddenScopes),
        Case(route: "search", request: { s, t in (.post, "/v3/memories/search/", #"{"query":"tea","filters":{\#(s.scope(t))}}"#) },
             bound: forbiddenScopes),
        Case(route: "search_top_level", request: { s, t in (.post, "/v2/memories/search/", #"{"query":"tea",\#(s.scope(t))}"#) },
             bound: forbiddenScopes),
        Case(route: "list", request: { s, t in (.post, "/v3/memories/", #"{"filters":{\#(s.scope(t))}}"#) }, bound: forbiddenScopes),
        Case(route: "list_or", request: { s, t in
            (.post, "/v3/memories/", #"{"filters":{"OR":[{"user_id":"alice"},{\#(s.scope(t))}]}}"#) }, bound: forbiddenScopes),
        Case(route: "get", request: { s, t in (.get, "/v1/memories/\(s.memory[t]!)/", nil) }, bound: hiddenIds),
        Case(route: "history", request: { s, t in (.get, "/v1/memories/\(s.memory[t]!)/history/", nil) }, bound: hiddenIds),
        Case(route: "update", request: { s, t in (.put, "/v1/memories/\(s.memory[t]!)/", #"{"text":"likes coffee"}"#) }, bound: hiddenIds),
        Case(route: "delete", request: { s, t in (.delete, "/v1/memories/\(s.memory[t]!)/", nil) }, bound: hiddenIds),
        Case(route: "batch_update", request: { s, t in
            (.put, "/v1/batch/", #"{"memories":[{"memory_id":"\#(s.memory[t]!)","text":"likes juice"}]}"#) }, bound: hiddenIds),
        Case(route: "batch_delete", request: { s, t in
            (.delete, "/v1/batch/", #"{"memories":[{"memory_id":"\#(s.memory[t]!)"}]}"#) }, bound: hiddenIds),
        Case(route: "delete_all", request: { s, t in (.delete, "/v1/memories/?\(s.query(t))", nil) }, bound: forbiddenScopes),
        Case(route: "delete_entity", request: { s, t in
            let path = switch t {
            case .own: "user/alice"
            case .other: "user/bob"
            case .none: "agent/\(s.agent)"
            }
            return (.delete, "/v2/entities/\(path)/", nil)
        }, bound: forbiddenScopes),
        Case(route: "export_create", request: { s, t in
            (.post, "/v1/exports/", #"{"schema":{"type":"object"},"filters":{\#(s.scope(t))}}"#) }, bound: forbiddenScopes),
        Case(route: "export_get_filters", request: { s, t in
            (.post, "/v1/exports/get/", #"{"filters":{\#(s.scope(t))}}"#) }, bound: forbiddenScopes),
        Case(route: "export_get_id", request: { s, t in
            (.post, "/v1/exports/get/", #"{"memory_export_id":"\#(s.export[t]!)"}"#) },
             bound: [.own: (200, nil), .other: (404, "export_not_found"), .none: (404, "export_not_found")]),
    ]

    static func app() throws -> (Application<HandlerResponder>, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentmemory-bound-\(UUID().uuidString)")
        let config = try RuntimeConfiguration(environment: [
            "MEMORY_API_KEYS": Keys.setting, "MEMORY_STORAGE": folder.path, "MEMORY_EMBEDDER": "hash",
        ])
        let logger = Logger(label: "test") { label in JSONLogHandler(label: label, level: .warning, sink: LogCollector().sink) }
        return (HandlerServer(configuration: config, role: .local, logger: logger).application(port: 0), folder)
    }

    static func seed(_ client: some TestClientProtocol) async throws -> Seed {
        var seed = Seed()
        for target in Target.allCases {
            let added = try await client.call(.post, "/v3/memories/add/",
                body: #"{"messages":"the \#(target.rawValue) memory about tea",\#(seed.scope(target)),"infer":false}"#, key: Keys.admin)
            try #require(added.status == 200)
            seed.memory[target] = try #require(added.json["results"]?.arrayValue?.first?["id"]?.stringValue)
            let export = try await client.call(.post, "/v1/exports/",
                body: #"{"schema":{"type":"object"},"filters":{\#(seed.scope(target))}}"#, key: Keys.admin)
            try #require(export.status == 200)
            seed.export[target] = try #require(export.json["id"]?.stringValue)
        }
        return seed
    }

    @Test func everyRouteBoundVersusUnbound() async throws {
        let (app, folder) = try Self.app()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await app.test(.router) { client in
            for c in Self.cases {
                for target in Target.allCases {
                    for key in [Keys.bound, Keys.unbound] {
                        let seed = try await Self.seed(client)
                        let (method, path, body) = c.request(seed, target)
                        let answer = try await client.call(method, path, body: body, key: key)
                        let (status, code) = key == Keys.bound ? c.bound[target]! : (200, nil)
                        #expect(answer.status == status, "\(c.route) \(target) \(key == Keys.bound ? "bound" : "unbound"): \(answer.json)")
                        if let code { #expect(answer.json["code"] == .string(code), "\(c.route) \(target): \(answer.json)") }
                        if key == Keys.bound, answer.status == 200 {
                            // Whatever a bound key reads comes from its own user only.
                            for item in Self.items(answer.json) {
                                #expect(item["user_id"] == .string("alice"), "\(c.route) \(target) leaked \(item)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func tenantWideRoutesNeedAnUnboundCredential() async throws {
        let (app, folder) = try Self.app()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await app.test(.router) { client in
            _ = try await Self.seed(client)
            let entities = try await client.call(.get, "/v1/entities/", key: Keys.bound)
            #expect(entities.status == 403)
            #expect(entities.json["code"] == .string("user_scope_required"))
            #expect(try await client.call(.get, "/v1/entities/", key: Keys.unbound).status == 200)
            // Even an admin key, once bound, cannot use "*" or compact the tenant.
            let wildcard = try await client.call(.post, "/v3/memories/", body: #"{"filters":{"user_id":"*"}}"#, key: Keys.boundAdmin)
            #expect(wildcard.status == 403)
            #expect(try await client.call(.post, "/v3/memories/", body: #"{"filters":{"user_id":"*"}}"#, key: Keys.admin).status == 200)
            let compact = try await client.call(.post, "/v1/admin/compact", key: Keys.boundAdmin)
            #expect(compact.status == 403)
            #expect(try await client.call(.post, "/v1/admin/compact", key: Keys.admin).status == 200)
            #expect(try await client.call(.get, "/v1/ping/", key: Keys.bound).status == 200)
            // A bound search over its own user never returns the other user's memory.
            let hits = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"memory about tea","user_id":"alice"}"#,
                                             key: Keys.bound)
            #expect(!Self.items(hits.json).isEmpty)
            #expect(Self.items(hits.json).allSatisfy { $0["user_id"] == .string("alice") })
        }
    }

    /// The timer outside the host is an admin route over the caller's tenant: a bound admin credential is refused
    /// (403, logged with the reason), an unbound one runs it.
    @Test func theTimerNeedsAnUnboundCredential() async throws {
        let logs = LogCollector()
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Keys.setting], logs: logs)
        let body = #"{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}"#
        try await app.test(.router) { client in
            let bound = try await client.call(.post, "/compact", body: body, key: Keys.boundAdmin)
            #expect(bound.status == 403)
            #expect(bound.json["code"] == .string("forbidden"))
            #expect(try await client.call(.post, "/compact", body: body, key: Keys.admin).status == 200)
        }
        let refused = logs.objects().compactMap { $0 }.first { $0["route"] == "timer:compact" && $0["status"] == "403" }
        #expect(refused?["cause"]?.contains("not bound to a user_id") == true)
        #expect(refused?["tenant"] == "acme")
    }

    @Test func apiKeyUserField() throws {
        let table = try APIKeyTable(setting: "t:read:\(APIKeyTable.hash(key: "k1"));t:write:\(APIKeyTable.hash(key: "k2")):user:with:colons")
        #expect(table.principal(forKey: "k1") == Principal(tenant: "t", role: .read))
        #expect(table.principal(forKey: "k2") == Principal(tenant: "t", role: .write, boundUserId: "user:with:colons"))
        #expect(throws: ConfigurationError.self) { try APIKeyTable(setting: "t:read:\(APIKeyTable.hash(key: "k")):") }
        #expect(throws: ConfigurationError.self) { try APIKeyTable(setting: "t:read") }
    }

    /// The memory items of an answer (`results`, `memories`, or the item itself).
    static func items(_ json: JSONValue) -> [JSONValue] {
        if let list = json["results"]?.arrayValue { return list.filter { $0["user_id"] != nil } }
        if let list = json["memories"]?.arrayValue { return list }
        if json["memory"] != nil, json["user_id"] != nil { return [json] }
        return []
    }
}
