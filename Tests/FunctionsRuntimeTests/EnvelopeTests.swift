import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import JSONModel
import MemoryStorage
import Testing

/// The Functions host's default-mode invocations (reference §1.6–1.7) through the real app.
@Suite struct EnvelopeTests {
    /// An HTTP envelope as the host sends it, with the client request inside.
    static func httpEnvelope(method: String, url: String, body: String?, headers: [String: [String]] = [:],
                             queryAsString: Bool = false, query: [String: String] = [:]) -> String {
        var req: [String: JSONValue] = [
            "Url": .string(url), "Method": .string(method),
            "Headers": .object(headers.mapValues { .array($0.map { .string($0) }) }),
            "Params": .object([:]),
            "Identities": .array([]),
        ]
        let q: JSONValue = .object(query.mapValues { .string($0) })
        req["Query"] = queryAsString ? .string(String(decoding: try! JSONEncoder().encode(q), as: UTF8.self)) : q
        if let body { req["Body"] = .string(body) }
        let envelope: JSONValue = .object([
            "Data": .object(["req": .object(req)]),
            "Metadata": .object(["sys": .object(["MethodName": .string("search"), "UtcNow": .string("2025-11-24T10:00:00.1234567Z")])]),
        ])
        return String(decoding: try! JSONEncoder().encode(envelope), as: UTF8.self)
    }

    /// A query string as decoded pairs (what the routes read).
    static func query(_ raw: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            out[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return out
    }

    static func res(_ json: JSONValue) -> (status: Int?, body: JSONValue?, contentType: String?) {
        let res = json["Outputs"]?["res"]
        let body = res?["body"]?.stringValue.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        return (res?["statusCode"]?.doubleValue.map { Int($0) }, body, res?["headers"]?["Content-Type"]?.stringValue)
    }

    @Test func httpEnvelopeIsRoutedAndWrapped() async throws {
        let echo = EchoBackend()
        let app = try makeApp(role: .search, environment: ["MEMORY_API_KEYS": TestKeys.setting], backend: echo)
        let envelope = Self.httpEnvelope(method: "POST", url: "http://localhost:7071/api/v3/memories/search/",
                                         body: #"{"query":"tea","user_id":"alice"}"#,
                                         headers: ["Authorization": ["Token \(TestKeys.acmeRead)"], "Content-Type": ["application/json"]])
        try await app.test(.router) { client in
            let r = try await client.call(.post, "/search", body: envelope, headers: ["X-Azure-Functions-InvocationId": "inv-1"])
            #expect(r.status == 200)
            #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(r.json["ReturnValue"] == .null)
            #expect(r.json["Logs"]?.arrayValue?.isEmpty == false)
            let (status, body, type) = Self.res(r.json)
            #expect(status == 200)
            #expect(type == "application/json")
            #expect(echo.calls.last["op"] == .string("search"))
            #expect(echo.calls.last["tenant"] == .string("acme"))
            #expect(echo.calls.last["request_id"] == .string("inv-1"))
        }
    }

    /// One log line per invocation, naming the inner request, its route and status (also for an inner `GET /`).
    @Test func anEnvelopeIsLoggedOnceAsItsInnerRequest() async throws {
        let logs = LogCollector()
        let app = try makeApp(role: .search, environment: ["MEMORY_API_KEYS": TestKeys.setting], logs: logs)
        let search = Self.httpEnvelope(method: "POST", url: "http://h/api/v3/memories/search/", body: #"{"query":"q","user_id":"u"}"#,
                                       headers: ["Authorization": ["Token \(TestKeys.acmeRead)"]])
        let readiness = Self.httpEnvelope(method: "GET", url: "http://h/", body: nil)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/search", body: search, headers: ["X-Azure-Functions-InvocationId": "inv-log"])
            _ = try await client.call(.post, "/search", body: readiness, headers: ["X-Azure-Functions-InvocationId": "inv-ready"])
        }
        let lines = logs.objects().compactMap { $0 }
        let searchLines = lines.filter { $0["invocation_id"] == "inv-log" }
        #expect(searchLines.count == 1)
        #expect(searchLines.first?["route"] == "envelope:search:search")
        #expect(searchLines.first?["method"] == "POST")
        #expect(searchLines.first?["path"] == "/api/v3/memories/search/")
        #expect(searchLines.first?["status"] == "200")
        #expect(searchLines.first?["tenant"] == "acme")
        #expect(lines.filter { $0["invocation_id"] == "inv-ready" }.count == 1)
    }

    @Test func envelopeCarriesErrorStatusesInsideA200() async throws {
        let app = try makeApp(role: .add, environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await app.test(.router) { client in
            let noKey = Self.httpEnvelope(method: "POST", url: "http://h/api/v3/memories/add/", body: #"{"messages":"hi","user_id":"u"}"#)
            let r1 = try await client.call(.post, "/add", body: noKey)
            #expect(r1.status == 200)
            #expect(Self.res(r1.json).status == 401)
            let badJSON = Self.httpEnvelope(method: "POST", url: "http://h/api/v3/memories/add/", body: "{nope",
                                            headers: ["Authorization": ["Token \(TestKeys.acmeWrite)"]])
            let r2 = try await client.call(.post, "/add", body: badJSON)
            #expect(Self.res(r2.json).status == 400)
            #expect(Self.res(r2.json).body?["code"] == .string("invalid_json"))
            let broken = try await client.call(.post, "/add", body: #"{"Metadata":{}}"#)
            #expect(broken.status == 200)
            #expect(Self.res(broken.json).status == 400)
            #expect(Self.res(broken.json).body?["code"] == .string("invalid_envelope"))
        }
    }

    @Test func queryAsStringHeaderArraysAndMissingBodyAreTolerated() async throws {
        let echo = EchoBackend()
        let app = try makeApp(backend: echo)
        try await app.test(.router) { client in
            let del = Self.httpEnvelope(method: "DELETE", url: "http://h/api/v1/memories/", body: nil,
                                        queryAsString: true, query: ["user_id": "alice"])
            let r = try await client.call(.post, "/memory", body: del)
            #expect(Self.res(r.json).status == 200)
            #expect(echo.calls.last["scopes"]?["user_id"] == .string("alice"))
            // Query only in the Url.
            let list = Self.httpEnvelope(method: "POST", url: "http://h/api/v3/memories/?page=3", body: #"{"filters":{"user_id":"a"}}"#)
            let r2 = try await client.call(.post, "/search", body: list)
            #expect(echo.calls.last["page"] == .number(3))
            // No Body on a GET.
            let ping = Self.httpEnvelope(method: "GET", url: "http://h/api/v1/ping/", body: nil)
            let r3 = try await client.call(.post, "/search", body: ping)
            #expect(Self.res(r3.json).body?["status"] == .string("ok"))
        }
    }

    @Test func timerEnvelopeCompactsAndAnswersOutputsLogs() async throws {
        let app = try makeApp(role: .compact, environment: ["FUNCTIONS_APP_ROOT_PATH": "/home/site/wwwroot",
                                                             "MEMORY_API_KEYS": TestKeys.setting])
        let timer = #"""
        {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":"2025-11-24T10:05:00+00:00","LastUpdated":"2025-11-24T10:00:00.0096035+00:00"},"IsPastDue":true}},
         "Metadata":{"sys":{"MethodName":"compact","UtcNow":"2025-11-24T10:05:00.0123456Z","RandGuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}
        """#
        let nullStatus = #"{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}"#
        try await app.test(.router) { client in
            for body in [timer, nullStatus] {
                let r = try await client.call(.post, "/compact", body: body,
                                              headers: ["X-Azure-Functions-InvocationId": "3f1c7e2a-6a59-4a7b-9a9b-2f1f3f3c9d11"])
                #expect(r.status == 200)
                #expect(r.json["Outputs"] == .object([:]))
                #expect(r.json["ReturnValue"] == .null)
                let logs = r.json["Logs"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(logs.contains { $0.contains("2 partitions, 2 compacted, 0 failed") })
                #expect(logs.contains("tenant *"))
            }
        }
    }

    /// Outside the Functions host (the local run) the timer route is an admin route: without the admin role it
    /// is refused, and with it only the caller's tenant is compacted. Under the host, only a call carrying the
    /// host's invocation id skips the credential check.
    @Test func timerRouteNeedsTheAdminRoleUnlessTheHostCallsIt() async throws {
        let body = #"{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}"#
        let local = try makeApp(role: .local, environment: ["MEMORY_API_KEYS": TestKeys.setting])
        try await local.test(.router) { client in
            let anonymous = try await client.call(.post, "/compact", body: body, headers: ["X-Azure-Functions-InvocationId": "forged"])
            #expect(anonymous.status == 401)
            let writer = try await client.call(.post, "/compact", body: body, key: TestKeys.acmeWrite)
            #expect(writer.status == 403)
            let admin = try await client.call(.post, "/compact", body: body, key: TestKeys.acmeAdmin)
            #expect(admin.status == 200)
            #expect(admin.json["Logs"]?.arrayValue?.contains(.string("tenant acme")) == true)
        }
        let hosted = try makeApp(role: .compact, environment: ["MEMORY_API_KEYS": TestKeys.setting,
                                                                "FUNCTIONS_APP_ROOT_PATH": "/home/site/wwwroot"])
        try await hosted.test(.router) { client in
            let noInvocation = try await client.call(.post, "/compact", body: body)
            #expect(noInvocation.status == 401)
            let host = try await client.call(.post, "/compact", body: body, headers: ["X-Azure-Functions-InvocationId": "inv-1"])
            #expect(host.status == 200)
            #expect(host.json["Logs"]?.arrayValue?.contains(.string("tenant *")) == true)
        }
    }

    /// A failed partition makes the invocation fail the way the host records it: a non-2xx answer.
    @Test func aFailedCompactionIsAFailedInvocation() async throws {
        var backend = EchoBackend()
        backend.failedCompactions = 1
        let app = try makeApp(role: .compact, environment: ["FUNCTIONS_APP_ROOT_PATH": "/x"], backend: backend)
        try await app.test(.router) { client in
            let r = try await client.call(.post, "/compact", body: #"{"Data":{"timer":{}}}"#,
                                          headers: ["X-Azure-Functions-InvocationId": "inv-2"])
            #expect(r.status == 500)
            let logs = r.json["Logs"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(logs.contains { $0.contains("1 failed") })
            #expect(logs.contains { $0.contains("next run retries") })
        }
    }

    @Test func timerIsServedOnlyByCompactAndLocal() async throws {
        let app = try makeApp(role: .search)
        try await app.test(.router) { client in
            let r = try await client.call(.post, "/compact", body: #"{"Data":{"timer":{}}}"#)
            #expect(r.status == 404)
        }
    }

    @Test func lenientEnvelopeParsing() async throws {
        let envelope: JSONValue = .object(["Data": .object(["req": .object([
            "Url": .string("https://app.azurewebsites.net/api/v1/memories/x/?a=1&b=two%20words"),
            "Method": .string("put"),
            "Headers": .object(["X-Multi": .array([.string("a"), .string("b")]), "Single": .string("s")]),
            "Body": .object(["text": .string("hi")]),
        ])])])
        let r = try InvocationEnvelope.httpRequest(from: envelope, maxBodyBytes: 1024, invocationId: "inv-9")
        #expect(r.method == .put)
        #expect(r.uri.path == "/api/v1/memories/x/")
        #expect(Self.query(r.uri.query) == ["a": "1", "b": "two words"])
        #expect(r.headers[HTTPFields.Element.Name("x-multi")!] == "a,b")
        #expect(r.headers[HTTPFields.Element.Name("single")!] == "s")
        #expect(r.headers[HTTPFields.Element.Name("X-Azure-Functions-InvocationId")!] == "inv-9")
        let body = r.body
        let bytes = try await body.collect(upTo: 1024)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView)) == .object(["text": .string("hi")]))
        #expect(throws: APIError.self) {
            try InvocationEnvelope.httpRequest(from: .object(["Data": .object(["req": .object(["Url": .string("/x"), "Body": .string(String(repeating: "a", count: 2000))])])]), maxBodyBytes: 1024)
        }
    }
}
