import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import MemoryStorage
import Testing

/// Every API route through the real Hummingbird app (HummingbirdTesting router mode), on ``EchoBackend``.
@Suite struct RouteTests {
    let memory = EchoBackend.acmeMemory.uuidString.lowercased()

    @Test func readinessAnswersWithoutAuth() async throws {
        let app = try makeApp(role: .search, environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await app.test(.router) { client in
            let r = try await client.call(.get, "/")
            #expect(r.status == 200)
            #expect(r.json["status"] == .string("ok"))
            #expect(r.json["role"] == .string("search"))
        }
    }

    @Test func pingReportsTenantForTheSDK() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await app.test(.router) { client in
            let r = try await client.call(.get, "/v1/ping/", key: TestKeys.acmeRead)
            #expect(r.status == 200)
            #expect(r.json["org_id"] == .string("acme"))
            #expect(r.json["project_id"] == .string("acme"))
            #expect(r.json["role"] == .string("read"))
        }
    }

    @Test func everyRouteReachesItsServiceCall() async throws {
        let echo = EchoBackend()
        let app = try makeApp(backend: echo)
        let cases: [(HTTPRequest.Method, String, String?, String)] = [
            (.post, "/v3/memories/add/", #"{"messages":[{"role":"user","content":"I like tea"}],"user_id":"alice","infer":false}"#, "add"),
            (.post, "/v3/memories/search/", #"{"query":"tea","filters":{"user_id":"alice"},"top_k":3}"#, "search"),
            (.post, "/v2/memories/search/", #"{"query":"tea","user_id":"alice"}"#, "search"),
            (.post, "/v3/memories/?page=2&page_size=5", #"{"filters":{"user_id":"alice"}}"#, "list"),
            (.post, "/v2/memories/", #"{"filters":{"user_id":"alice"}}"#, "list"),
            (.get, "/v1/memories/\(memory)/", nil, "get"),
            (.put, "/v1/memories/\(memory)/", #"{"text":"I like green tea"}"#, "update"),
            (.delete, "/v1/memories/\(memory)/", nil, "delete"),
            (.get, "/v1/memories/\(memory)/history/", nil, "history"),
            (.delete, "/v1/memories/?user_id=alice&run_id=r1", nil, "delete_all"),
            (.put, "/v1/batch/", #"{"memories":[{"memory_id":"\#(memory)","text":"x"}]}"#, "batch_update"),
            (.delete, "/v1/batch/", #"{"memories":[{"memory_id":"\#(memory)"}]}"#, "batch_delete"),
            (.get, "/v1/entities/", nil, "entities"),
            (.delete, "/v2/entities/user/alice%20smith/", nil, "delete_entity"),
            (.post, "/v1/exports/", #"{"schema":{},"filters":{"user_id":"alice"}}"#, "export_create"),
            (.post, "/v1/exports/get/", #"{"filters":{"user_id":"alice"}}"#, "export_get"),
        ]
        try await app.test(.router) { client in
            for (method, path, body, op) in cases {
                let r = try await client.call(method, path, body: body)
                #expect(r.status == 200, "\(method) \(path): \(r.json)")
                #expect(echo.calls.last["op"] == .string(op), "\(method) \(path)")
                #expect(echo.calls.last["tenant"] == .string("default"))
            }
        }
    }

    @Test func parsedArgumentsArriveIntact() async throws {
        let echo = EchoBackend()
        let app = try makeApp(backend: echo)
        try await app.test(.router) { client in
            let list = try await client.call(.post, "/v3/memories/?page=2&page_size=5", body: #"{"filters":{"user_id":"alice"}}"#)
            #expect(echo.calls.last["page"] == .number(2))
            #expect(echo.calls.last["page_size"] == .number(5))
            #expect(echo.calls.last["filters"]?["user_id"] == .string("alice"))
            let del = try await client.call(.delete, "/v1/memories/?user_id=alice&run_id=r1")
            #expect(echo.calls.last["scopes"]?["user_id"] == .string("alice"))
            #expect(echo.calls.last["scopes"]?["run_id"] == .string("r1"))
            let entity = try await client.call(.delete, "/v2/entities/user/alice%20smith/")
            #expect(echo.calls.last["id"] == .string("alice smith"))
            #expect(echo.calls.last["type"] == .string("user"))
            let add = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","agent_id":"bot"}"#,
                                            headers: ["Idempotency-Key": "k-1"])
            #expect(echo.calls.last["idempotency_key"] == .string("k-1"))
            #expect(echo.calls.last["scopes"]?["agent_id"] == .string("bot"))
            #expect(echo.calls.last["infer"] == .bool(true))
        }
    }

    @Test func trailingSlashAndApiPrefixAreOptional() async throws {
        let echo = EchoBackend()
        let app = try makeApp(backend: echo)
        try await app.test(.router) { client in
            for path in ["/v1/entities/", "/v1/entities", "/api/v1/entities/", "/api/v1/entities", "/API/v1/entities"] {
                let r = try await client.call(.get, path)
                #expect(r.status == 200, "\(path)")
                #expect(echo.calls.last["op"] == .string("entities"), "\(path)")
            }
        }
    }

    /// What the route table resolves: captures (percent-decoded), the `api` prefix, empty segments, 405 vs 404.
    @Test func routeMatching() async throws {
        let echo = EchoBackend()
        let app = try makeApp(backend: echo)
        try await app.test(.router) { client in
            let history = try await client.call(.get, "/api/v1/memories/\(memory)/history/")
            #expect(history.status == 200)
            #expect(echo.calls.last["op"] == .string("history"))
            #expect(echo.calls.last["id"] == .string(memory))
            let entity = try await client.call(.delete, "/v2/entities/agent/a%2Fb")
            #expect(entity.status == 200)
            #expect(echo.calls.last["op"] == .string("delete_entity"))
            #expect(echo.calls.last["type"] == .string("agent"))
            #expect(echo.calls.last["id"] == .string("a/b"))
            let doubled = try await client.call(.post, "//v3//memories/add", body: #"{"messages":"hi","user_id":"u"}"#)
            #expect(doubled.status == 200)
            #expect(echo.calls.last["op"] == .string("add"))
            let get = try await client.call(.get, "/v3/memories/add/")
            #expect(get.status == 405)
            #expect(get.headers[.allow] == "POST")
            for method in [HTTPRequest.Method.trace, .head, HTTPRequest.Method("QUERY")!] {
                let other = try await client.call(method, "/v1/ping/")
                #expect(other.status == 405, "\(method)")
                #expect(other.headers[.allow] == "GET", "\(method)")
            }
            let nope = try await client.call(.get, "/v1/nope")
            #expect(nope.status == 404)
            #expect(nope.json["code"] == .string("not_found"))
            #expect(nope.json["request_id"]?.stringValue?.isEmpty == false)
        }
    }

    /// The same app over a real socket: HTTP/1.1 framing, the 405's `Allow`, and an invocation envelope.
    @Test func liveServerAnswersOverTCP() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await app.test(.live) { client in
            let ping = try await client.call(.get, "/api/v1/ping/", key: TestKeys.acmeRead,
                                             headers: ["X-Azure-Functions-InvocationId": "live-1"])
            #expect(ping.status == 200)
            #expect(ping.json["org_id"] == .string("acme"))
            let wrong = try await client.call(.patch, "/api/v1/memories/\(memory)/", key: TestKeys.acmeRead)
            #expect(wrong.status == 405)
            #expect(wrong.headers[.allow] == "GET, PUT, DELETE")
            let none = try await client.call(.get, "/api/v1/entities/", headers: ["X-Azure-Functions-InvocationId": "live-2"])
            #expect(none.status == 401)
            #expect(none.json["request_id"] == .string("live-2"))
            #expect(none.headers[.wwwAuthenticate] == "Token")
            let ready = try await client.call(.get, "/")
            #expect(ready.json["status"] == .string("ok"))
        }
    }

    @Test func unknownRouteIs404AndWrongMethodIs405() async throws {
        let app = try makeApp()
        try await app.test(.router) { client in
            let missing = try await client.call(.get, "/v9/nothing/")
            #expect(missing.status == 404)
            #expect(missing.json["code"] == .string("not_found"))
            #expect(missing.json["detail"]?.stringValue?.contains("/v9/nothing/") == true)
            let wrong = try await client.call(.patch, "/v1/memories/\(memory)/")
            #expect(wrong.status == 405)
            #expect(wrong.json["code"] == .string("method_not_allowed"))
            #expect(wrong.headers[.allow]?.contains("PUT") == true)
        }
    }

    @Test func badInputIsA400NamingTheProblem() async throws {
        let app = try makeApp()
        try await app.test(.router) { client in
            let invalid = try await client.call(.post, "/v3/memories/add/", body: #"{"messages": [ "#)
            #expect(invalid.status == 400)
            #expect(invalid.json["code"] == .string("invalid_json"))
            let noMessages = try await client.call(.post, "/v3/memories/add/", body: #"{"user_id":"alice"}"#)
            #expect(noMessages.status == 400)
            #expect(noMessages.json["detail"]?.stringValue?.contains("messages") == true)
            let noScope = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi"}"#)
            #expect(noScope.status == 400)
            #expect(noScope.json["code"] == .string("missing_entity_id"))
            let wrongType = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"x","user_id":"a","top_k":"many"}"#)
            #expect(wrongType.status == 400)
            #expect(wrongType.json["detail"]?.stringValue?.contains("top_k") == true)
            let notObject = try await client.call(.post, "/v3/memories/search/", body: #"[1,2]"#)
            #expect(notObject.status == 400)
            let emptySearch = try await client.call(.post, "/v3/memories/search/")
            #expect(emptySearch.status == 400)
            #expect(emptySearch.json["code"] == .string("missing_query"))
            let badId = try await client.call(.get, "/v1/memories/not-a-uuid/")
            #expect(badId.status == 400)
            #expect(badId.json["code"] == .string("invalid_memory_id"))
            let noEntity = try await client.call(.delete, "/v1/memories/")
            #expect(noEntity.status == 400)
            #expect(noEntity.json["code"] == .string("missing_entity_id"))
            let badType = try await client.call(.delete, "/v2/entities/planet/mars/")
            #expect(badType.status == 400)
            #expect(badType.json["code"] == .string("invalid_entity_type"))
            let badPage = try await client.call(.post, "/v3/memories/?page=0", body: #"{"filters":{"user_id":"a"}}"#)
            #expect(badPage.status == 400)
            let emptyUpdate = try await client.call(.put, "/v1/memories/\(memory)/", body: "{}")
            #expect(emptyUpdate.status == 400)
            #expect(emptyUpdate.json["code"] == .string("empty_update"))
        }
    }

    @Test func oversizedBodyIs413() async throws {
        let app = try makeApp(environment: ["MEMORY_MAX_BODY_BYTES": "2048"])
        let big = #"{"messages":"\#(String(repeating: "a", count: 5000))","user_id":"u"}"#
        try await app.test(.router) { client in
            let r = try await client.call(.post, "/v3/memories/add/", body: big)
            #expect(r.status == 413)
            #expect(r.json["code"] == .string("body_too_large"))
            let small = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","user_id":"u"}"#)
            #expect(small.status == 200)
        }
    }

    @Test func unknownMemoryAndOtherTenantsMemoryAre404() async throws {
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await app.test(.router) { client in
            let own = try await client.call(.get, "/v1/memories/\(memory)/", key: TestKeys.acmeRead)
            #expect(own.status == 200)
            let unknown = try await client.call(.get, "/v1/memories/\(UUID().uuidString)/", key: TestKeys.acmeRead)
            #expect(unknown.status == 404)
            let foreign = try await client.call(.get, "/v1/memories/\(memory)/", key: TestKeys.otherWrite)
            #expect(foreign.status == 404)
            #expect(foreign.json["code"] == .string("memory_not_found"))
        }
    }

    @Test func authRules() async throws {
        let echo = EchoBackend()
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting], backend: echo)
        let add = #"{"messages":"hi","user_id":"u"}"#
        try await app.test(.router) { client in
            let none = try await client.call(.post, "/v3/memories/add/", body: add)
            #expect(none.status == 401)
            #expect(none.json["code"] == .string("missing_api_key"))
            let wrong = try await client.call(.post, "/v3/memories/add/", body: add, key: "nope")
            #expect(wrong.status == 401)
            #expect(wrong.json["code"] == .string("invalid_api_key"))
            let readWrites = try await client.call(.post, "/v3/memories/add/", body: add, key: TestKeys.acmeRead)
            #expect(readWrites.status == 403)
            let readReads = try await client.call(.get, "/v1/entities/", key: TestKeys.acmeRead)
            #expect(readReads.status == 200)
            let bearer = try await client.call(.post, "/v3/memories/add/", body: add, headers: ["Authorization": "Bearer \(TestKeys.acmeWrite)"])
            #expect(bearer.status == 200)
            #expect(echo.calls.last["tenant"] == .string("acme"))
            let apiKey = try await client.call(.post, "/v3/memories/add/", body: add, headers: ["X-API-Key": TestKeys.otherWrite])
            #expect(apiKey.status == 200)
            #expect(echo.calls.last["tenant"] == .string("other"))
            let writeCompacts = try await client.call(.post, "/admin/compact", key: TestKeys.acmeWrite)
            #expect(writeCompacts.status == 403)
            let adminCompacts = try await client.call(.post, "/api/admin/compact", key: TestKeys.acmeAdmin)
            #expect(adminCompacts.status == 200)
            #expect(adminCompacts.json["compacted"] == .number(2))
            #expect(adminCompacts.json["messages"] == .array([.string("tenant acme")]))
        }
    }

    @Test func adminCompactionThatFailsAnswersAnErrorNamingNoIds() async throws {
        var backend = EchoBackend()
        backend.failedCompactions = 1
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting], backend: backend)
        try await app.test(.router) { client in
            let r = try await client.call(.post, "/api/v1/admin/compact", key: TestKeys.acmeAdmin)
            #expect(r.status == 503)
            #expect(r.json["code"] == .string("compaction_failed"))
            #expect(r.json["detail"]?.stringValue?.contains("user#00000000") == true)
            #expect(r.json["request_id"] != nil)
        }
    }

    @Test func httpEdgesAreClear4xxs() async throws {
        let app = try makeApp()
        try await app.test(.router) { client in
            let form = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"q","user_id":"u"}"#,
                                             headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(form.status == 415)
            #expect(form.json["code"] == .string("unsupported_media_type"))
            #expect(form.json["request_id"] != nil)
            let charset = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"q","user_id":"u"}"#,
                                                headers: ["Content-Type": "application/json; charset=utf-8"])
            #expect(charset.status == 200)
            for topK in [#""10""#, "true", "1.5", "[1]"] {
                let r = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"q","user_id":"u","top_k":\#(topK)}"#)
                #expect(r.status == 400, "top_k \(topK)")
                #expect(r.json["detail"]?.stringValue?.contains("top_k") == true)
            }
            let infer = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","user_id":"u","infer":"false"}"#)
            #expect(infer.status == 400)
            let nullTopK = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"q","user_id":"u","top_k":null}"#)
            #expect(nullTopK.status == 200, "null is the same as leaving the field out")
            let longKey = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","user_id":"u"}"#,
                                                headers: ["Idempotency-Key": String(repeating: "k", count: 201)])
            #expect(longKey.status == 400)
            #expect(longKey.json["code"] == .string("invalid_idempotency_key"))
        }
    }

    @Test func aTooLargeBodyAnswers413WithARequestId() async throws {
        let app = try makeApp(environment: ["MEMORY_MAX_BODY_BYTES": "1024"])
        try await app.test(.router) { client in
            let big = #"{"messages":"\#(String(repeating: "x", count: 4000))","user_id":"u"}"#
            let r = try await client.call(.post, "/v3/memories/add/", body: big, headers: ["X-Azure-Functions-InvocationId": "inv-413"])
            #expect(r.status == 413)
            #expect(r.json["request_id"] == .string("inv-413"))
        }
    }

    @Test func splitRolesServeOnlyTheirRoutes() async throws {
        let search = try makeApp(role: .search)
        try await search.test(.router) { client in
            let status1 = try await client.call(.post, "/v3/memories/search/", body: #"{"query":"q","user_id":"u"}"#).status

            #expect(status1 == 200)
            let status2 = try await client.call(.get, "/v1/ping/").status

            #expect(status2 == 200)
            let write = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","user_id":"u"}"#)
            #expect(write.status == 404)
            #expect(write.json["code"] == .string("wrong_app"))
            #expect(write.json["detail"]?.stringValue?.contains("memory-add") == true)
        }
        let add = try makeApp(role: .add)
        try await add.test(.router) { client in
            let status3 = try await client.call(.post, "/v3/memories/add/", body: #"{"messages":"hi","user_id":"u"}"#).status

            #expect(status3 == 200)
            let status4 = try await client.call(.post, "/v1/exports/", body: #"{"schema":{},"filters":{"user_id":"u"}}"#).status

            #expect(status4 == 200)
            let read = try await client.call(.get, "/v1/entities/")
            #expect(read.status == 404)
            #expect(read.json["detail"]?.stringValue?.contains("memory-search") == true)
        }
        let compact = try makeApp(role: .compact)
        try await compact.test(.router) { client in
            let status5 = try await client.call(.post, "/admin/compact").status

            #expect(status5 == 200)
            let status6 = try await client.call(.get, "/v1/entities/").status

            #expect(status6 == 404)
        }
    }

    /// A service that could not be built (a test's build; the executables exit instead) answers 503 naming the
    /// setting, while readiness still answers.
    @Test func aServiceThatCannotBeBuiltIs503NamingTheSetting() async throws {
        let logs = LogCollector()
        let logger = Logger(label: "test") { label in JSONLogHandler(label: label, level: .info, sink: logs.sink) }
        let server = HandlerServer(configuration: try RuntimeConfiguration(environment: [:]), role: .local, logger: logger) {
            throw ConfigurationError(setting: "MEMORY_STORAGE", problem: "cannot create the storage folder /nope")
        }
        try await server.application(port: 0).test(.router) { client in
            let ready = try await client.call(.get, "/")
            #expect(ready.status == 200)
            let r = try await client.call(.get, "/v1/entities/", headers: ["X-Azure-Functions-InvocationId": "inv-503"])
            #expect(r.status == 503)
            #expect(r.json["code"] == .string("service_unavailable"))
            #expect(r.json["detail"]?.stringValue?.contains("MEMORY_STORAGE") == true)
            #expect(r.json["request_id"] == .string("inv-503"))
        }
        let line = logs.objects().compactMap { $0 }.first { $0["invocation_id"] == "inv-503" }
        #expect(line?["cause"]?.contains("MEMORY_STORAGE") == true)
        #expect(line?["status"] == "503")
    }

    @Test func unexpectedErrorIs500WithRequestIdAndLoggedCause() async throws {
        let logs = LogCollector()
        let app = try makeApp(backend: ExplodingBackend(), logs: logs)
        try await app.test(.router) { client in
            let r = try await client.call(.get, "/v1/entities/", headers: ["X-Azure-Functions-InvocationId": "inv-500"])
            #expect(r.status == 500)
            #expect(r.json["code"] == .string("internal_error"))
            #expect(r.json["request_id"] == .string("inv-500"))
        }
        let lines = logs.objects()
        let line = lines.compactMap { $0 }.first { $0["invocation_id"] == "inv-500" }
        #expect(line?["level"] == "error")
        #expect(line?["cause"]?.contains("Boom") == true)
        #expect(line?["status"] == "500")
    }

    @Test func requestLogLinesAreJSONWithInvocationIdAndTenant() async throws {
        let logs = LogCollector()
        let app = try makeApp(environment: ["MEMORY_API_KEYS": TestKeys.setting], logs: logs)
        try await app.test(.router) { client in
            _ = try await client.call(.get, "/api/v1/entities/", key: TestKeys.acmeRead,
                                      headers: ["X-Azure-Functions-InvocationId": "inv-42"])
        }
        let lines = logs.objects()
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0 != nil })
        let line = lines.compactMap { $0 }.first { $0["invocation_id"] == "inv-42" }
        #expect(line?["tenant"] == "acme")
        #expect(line?["route"] == "entities")
        #expect(line?["status"] == "200")
        #expect(line?["request_id"] == "inv-42")
        #expect(line?["duration_ms"] != nil)
    }
}
