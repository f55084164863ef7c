import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import JSONModel
import MemoryStorage
import Testing

/// The MCP endpoint in process (the official SDK drives it end to end in `Tests/sdk/test_mcp_sdk.py`): transport
/// rules, auth before JSON-RPC, version negotiation, roles and bound users in tool calls.
@Suite struct MCPEndpointTests {
    static let boundKey = "mcp-bound-key"
    static var keys: String { TestKeys.setting + ";acme:write:\(APIKeyTable.hash(key: boundKey)):carol" }

    static func rpc(_ method: String, id: Int? = 1, params: String = "{}") -> String {
        let idPart = id.map { #","id":\#($0)"# } ?? ""
        return #"{"jsonrpc":"2.0"\#(idPart),"method":"\#(method)","params":\#(params)}"#
    }

    @Test func transportAndAuth() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Self.keys])
        try await app.test(.router) { client in
            #expect(try await client.call(.post, "/mcp", body: Self.rpc("ping")).status == 401)
            #expect(try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: "wrong").status == 401)
            let ping = try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: TestKeys.acmeRead)
            #expect(ping.status == 200)
            #expect(ping.json["result"] == .object([:]))
            let note = try await client.call(.post, "/api/mcp/", body: Self.rpc("notifications/initialized", id: nil), key: TestKeys.acmeRead)
            #expect(note.status == 202)
            #expect(try await client.call(.get, "/mcp", key: TestKeys.acmeRead).status == 405)
            #expect(try await client.call(.delete, "/mcp", key: TestKeys.acmeRead).status == 405)
            let badJSON = try await client.call(.post, "/mcp", body: "{", key: TestKeys.acmeRead)
            #expect(badJSON.status == 400)
            #expect(badJSON.json["error"]?["code"] == .number(-32700))
            let badVersion = try await client.call(.post, "/mcp", body: Self.rpc("tools/list"), key: TestKeys.acmeRead,
                                                   headers: ["MCP-Protocol-Version": "1999-01-01"])
            #expect(badVersion.status == 400)
        }
    }

    /// On the router: one log line per request with route `mcp…` (the refused ones too), the refusal's cause, and
    /// 405 with `Allow: POST` for any other method.
    @Test func routedAndLogged() async throws {
        let logs = LogCollector()
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Self.keys], logs: logs)
        try await app.test(.router) { client in
            #expect(try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: TestKeys.acmeRead).status == 200)
            let call = #"{"name":"list_memories","arguments":{"user_id":"u1"}}"#
            #expect(try await client.call(.post, "/api/mcp", body: Self.rpc("tools/call", params: call), key: TestKeys.acmeRead).status == 200)
            #expect(try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: "wrong").status == 401)
            let get = try await client.call(.get, "/mcp", key: TestKeys.acmeRead)
            #expect(get.headers[.allow] == "POST")
            #expect(get.json["code"] == .string("method_not_allowed"))
            let put = try await client.call(.put, "/api/mcp/", body: Self.rpc("ping"), key: TestKeys.acmeRead)
            #expect(put.status == 405)
            #expect(put.headers[.allow] == "POST")
            let text = try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: TestKeys.acmeRead,
                                             headers: ["Content-Type": "text/plain"])
            #expect(text.status == 415)
        }
        let lines = logs.objects().compactMap { $0 }.filter { $0["path"]?.lowercased().contains("mcp") == true }
        #expect(lines.map { $0["route"] ?? "" } == ["mcp:ping", "mcp:tools/call:list_memories", "mcp", "mcp:GET", "mcp", "mcp:media_type"])
        #expect(lines.map { $0["status"] ?? "" } == ["200", "200", "401", "405", "405", "415"])
        #expect(lines[0]["tenant"] == "acme")
        #expect(lines[2]["cause"]?.contains("not known") == true)
        #expect(lines.allSatisfy { !($0.values.joined().contains("wrong")) })
    }

    @Test func splitAppsDoNotServeIt() async throws {
        for role in [HandlerRole.search, .add, .compact] {
            let app = try makeApp(role: role, environment: ["MEMORY_API_KEYS": Self.keys])
            try await app.test(.router) { client in
                let answer = try await client.call(.post, "/mcp", body: Self.rpc("ping"), key: TestKeys.acmeRead)
                #expect(answer.status == 404)
                #expect(answer.json["code"] == .string("wrong_app"))
            }
        }
    }

    @Test func initializeNegotiatesTheVersion() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Self.keys])
        try await app.test(.router) { client in
            for (asked, answered) in [("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"), ("2099-01-01", "2025-11-25")] {
                let params = #"{"protocolVersion":"\#(asked)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}"#
                let answer = try await client.call(.post, "/mcp", body: Self.rpc("initialize", params: params), key: TestKeys.acmeRead)
                #expect(answer.json["result"]?["protocolVersion"] == .string(answered))
                #expect(answer.json["result"]?["capabilities"]?["tools"] != nil)
            }
            let discover = try await client.call(.post, "/mcp", body: Self.rpc("server/discover"), key: TestKeys.acmeRead,
                                                 headers: ["MCP-Protocol-Version": "2026-07-28"])
            #expect(discover.status == 200)
            #expect(discover.json["error"]?["code"] == .number(-32601))
        }
    }

    /// The stateless 2026-07-28 revision: `params._meta` carries the version and capabilities, headers mirror them.
    @Test func perRequestEnvelope() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Self.keys])
        @Sendable func meta(_ version: String) -> String {
            #""_meta":{"io.modelcontextprotocol/protocolVersion":"\#(version)","io.modelcontextprotocol/clientCapabilities":{}}"#
        }
        @Sendable func headers(_ method: String, _ version: String = "2026-07-28", name: String? = nil) -> [String: String] {
            var h = ["MCP-Protocol-Version": version, "Mcp-Method": method]
            if let name { h["Mcp-Name"] = name }
            return h
        }
        try await app.test(.router) { client in
            let discover = try await client.call(.post, "/mcp", body: Self.rpc("server/discover", params: "{\(meta("2026-07-28"))}"),
                                                 key: TestKeys.acmeRead, headers: headers("server/discover"))
            #expect(discover.json["result"]?["supportedVersions"]?.arrayValue?.contains(.string("2026-07-28")) == true)
            #expect(discover.json["result"]?["resultType"] == .string("complete"))
            #expect(discover.json["result"]?["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == .string("agentmemory"))
            let list = try await client.call(.post, "/mcp", body: Self.rpc("tools/list", params: "{\(meta("2026-07-28"))}"),
                                             key: TestKeys.acmeRead, headers: headers("tools/list"))
            #expect(list.json["result"]?["tools"]?.arrayValue?.count == 7)
            #expect(list.json["result"]?["ttlMs"] == .number(0))
            let call = #"{"name":"get_memory","arguments":{"memory_id":"x"},\#(meta("2026-07-28"))}"#
            let wrongName = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: call), key: TestKeys.acmeRead,
                                                  headers: headers("tools/call", name: "list_memories"))
            #expect(wrongName.json["error"]?["code"] == .number(-32020))
            let called = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: call), key: TestKeys.acmeRead,
                                               headers: headers("tools/call", name: "get_memory"))
            #expect(called.json["result"]?["isError"] == .bool(true))
            #expect(called.json["result"]?["resultType"] == .string("complete"))
            let future = try await client.call(.post, "/mcp", body: Self.rpc("tools/list", params: "{\(meta("2099-01-01"))}"),
                                               key: TestKeys.acmeRead, headers: headers("tools/list", "2099-01-01"))
            #expect(future.json["error"]?["code"] == .number(-32022))
            #expect(future.json["error"]?["data"]?["supported"] == .array([.string("2026-07-28")]))
        }
    }

    @Test func toolCallsUseRolesAndBoundUsers() async throws {
        let echo = EchoBackend()
        let app = try makeApp(environment: ["MEMORY_API_KEYS": Self.keys], backend: echo)
        try await app.test(.router) { client in
            let add = #"{"name":"add_memories","arguments":{"text":"likes tea","user_id":"u1","infer":false}}"#
            let refused = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: add), key: TestKeys.acmeRead)
            #expect(refused.json["result"]?["isError"] == .bool(true))
            let text = refused.json["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(text.hasPrefix("forbidden"))
            let done = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: add), key: TestKeys.acmeWrite)
            #expect(done.json["result"]?["isError"] == .bool(false))
            #expect(echo.calls.last["op"] == .string("add"))
            // The tool result carries the answer as the REST route encodes it (ResponseEncoding).
            #expect(done.json["result"]?["structuredContent"]?["status"] == .string("SUCCEEDED"))
            // A bound key's user fills in a missing user_id.
            let bare = #"{"name":"add_memories","arguments":{"text":"likes tea","infer":false}}"#
            let bound = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: bare), key: Self.boundKey)
            #expect(bound.json["result"]?["isError"] == .bool(false))
            #expect(echo.calls.last["scopes"]?["user_id"] == .string("carol"))
            #expect(echo.calls.last["bound_user_id"] == .string("carol"))
            let unknown = try await client.call(.post, "/mcp", body: Self.rpc("tools/call", params: #"{"name":"nope"}"#), key: TestKeys.acmeRead)
            #expect(unknown.json["error"]?["code"] == .number(-32602))
            let listed = try await client.call(.post, "/mcp", body: Self.rpc("tools/list"), key: TestKeys.acmeRead)
            #expect(listed.json["result"]?["tools"]?.arrayValue?.count == 7)
        }
    }
}
