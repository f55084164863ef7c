import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Starts the built executables exactly as the Functions host does (reference §1.5–1.8) and checks every reply.
/// Needs `swift build` first (the executables are found next to the test bundle).
@Suite(.serialized) struct HandlerProcessTests {
    static let readKey = "proc-read-key"
    static let writeKey = "proc-write-key"
    static let adminKey = "proc-admin-key"

    /// `memory-local --hash-key KEY`: the documented way to hash a key.
    static func hash(_ key: String) throws -> String {
        let p = Process()
        p.executableURL = HandlerProcess.binDirectory.appendingPathComponent("memory-local")
        p.arguments = ["--hash-key", key]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func keysSetting() throws -> String {
        "proc:read:\(try hash(readKey));proc:write:\(try hash(writeKey));proc:admin:\(try hash(adminKey))"
    }

    @Test func hashKeyFlagPrintsSHA256() throws {
        #expect(try Self.hash("test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    }

    @Test(arguments: ["memory-search", "memory-add", "memory-compact", "memory-local"])
    func startsAndAnswersReadinessAndPing(executable: String) async throws {
        let storage = try temporaryStorage()
        let handler = try HandlerProcess(executable, environment: ["MEMORY_STORAGE": storage.path, "MEMORY_API_KEYS": try Self.keysSetting()])
        defer { handler.stop() }
        let ready = try await handler.waitUntilReady()
        #expect(ready.status == 200)
        #expect(ready.object["status"] as? String == "ok")
        let ping = try await handler.request("GET", "/api/v1/ping/", headers: ["Authorization": "Token \(Self.readKey)"],
                                             invocationId: "ping-\(executable)")
        #expect(ping.status == 200)
        #expect(ping.object["org_id"] as? String == "proc")
        let unauthorised = try await handler.request("GET", "/api/v1/ping/")
        #expect(unauthorised.status == 401)
        #expect(handler.process.isRunning)
        handler.stop()
        let lines = handler.stdoutLines
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "stdout line is not a JSON object: \(line)")
        }
        #expect(lines.contains { $0.contains("\"invocation_id\":\"ping-\(executable)\"") })
    }

    @Test func splitAppsShareStorageAndServeTheirRoutes() async throws {
        let storage = try temporaryStorage()
        let env = ["MEMORY_STORAGE": storage.path, "MEMORY_API_KEYS": try Self.keysSetting()]
        let add = try HandlerProcess("memory-add", environment: env)
        let search = try HandlerProcess("memory-search", environment: env)
        defer { add.stop(); search.stop() }
        _ = try await add.waitUntilReady()
        _ = try await search.waitUntilReady()
        let auth = ["Authorization": "Token \(Self.writeKey)"]

        let added = try await add.request("POST", "/api/v3/memories/add/",
            body: #"{"messages":[{"role":"user","content":"I prefer window seats on flights"}],"user_id":"alice","infer":false}"#,
            headers: auth, invocationId: "inv-add")
        #expect(added.status == 200, "\(String(decoding: added.body, as: UTF8.self))")
        let results = added.object["results"] as? [[String: Any]] ?? []
        #expect(results.count == 1)
        let id = results.first?["id"] as? String ?? ""

        // Read-your-writes across processes: the search app sees the add app's write.
        let found = try await search.request("POST", "/api/v3/memories/search/",
            body: #"{"query":"window seat","filters":{"user_id":"alice"}}"#, headers: ["Authorization": "Token \(Self.readKey)"])
        #expect(found.status == 200)
        let hits = found.object["results"] as? [[String: Any]] ?? []
        #expect(hits.first?["id"] as? String == id)
        let got = try await search.request("GET", "/api/v1/memories/\(id)/", headers: ["Authorization": "Token \(Self.readKey)"])
        #expect(got.status == 200)
        #expect(got.object["memory"] as? String == "I prefer window seats on flights")

        // Each app names the other for routes it does not serve.
        let wrong = try await search.request("POST", "/api/v3/memories/add/", body: #"{"messages":"x","user_id":"a"}"#, headers: auth)
        #expect(wrong.status == 404)
        #expect((wrong.object["detail"] as? String)?.contains("memory-add") == true)
        let readOnly = try await add.request("POST", "/api/v3/memories/add/", body: #"{"messages":"x","user_id":"a"}"#,
                                             headers: ["Authorization": "Token \(Self.readKey)"])
        #expect(readOnly.status == 403)
        let badJSON = try await add.request("POST", "/api/v3/memories/add/", body: "{", headers: auth)
        #expect(badJSON.status == 400)
        #expect(badJSON.object["code"] as? String == "invalid_json")

        // The default (non-forwarded) envelope reaches the same routes.
        let envelope = #"{"Data":{"req":{"Url":"http://localhost:7071/api/v1/memories/\#(id)/history/","Method":"GET","Query":{},"Headers":{"Authorization":["Token \#(Self.readKey)"]},"Params":{"path":"v1/memories/\#(id)/history"}}},"Metadata":{"sys":{"MethodName":"search"}}}"#
        let wrapped = try await search.request("POST", "/search", body: envelope, invocationId: "inv-envelope")
        #expect(wrapped.status == 200)
        #expect(wrapped.headers["content-type"]?.hasPrefix("application/json") == true)
        let res = (wrapped.object["Outputs"] as? [String: Any])?["res"] as? [String: Any]
        #expect(res?["statusCode"] as? Int == 200)
        let historyBody = (res?["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
        #expect((historyBody as? [Any])?.isEmpty == false)
        #expect(wrapped.object["Logs"] is [Any])

        add.stop(); search.stop()
        #expect(add.stdoutLines.contains { $0.contains("\"invocation_id\":\"inv-add\"") && $0.contains("\"tenant\":\"proc\"") })
        #expect(search.stdoutLines.contains { $0.contains("\"invocation_id\":\"inv-envelope\"") })
    }

    @Test func compactAnswersTheTimerEnvelopeAndAdminRoute() async throws {
        let storage = try temporaryStorage()
        // As the Functions host starts it: FUNCTIONS_APP_ROOT_PATH set, so its own timer call needs no key.
        let compact = try HandlerProcess("memory-compact", environment: ["MEMORY_STORAGE": storage.path, "MEMORY_API_KEYS": try Self.keysSetting(),
                                                                         "FUNCTIONS_APP_ROOT_PATH": storage.path])
        defer { compact.stop() }
        _ = try await compact.waitUntilReady()
        let timer = #"{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"compact","UtcNow":"2025-11-24T10:05:00.0123456Z","RandGuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}"#
        let reply = try await compact.request("POST", "/compact", body: timer, invocationId: "inv-timer")
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect((reply.object["Outputs"] as? [String: Any])?.isEmpty == true)
        #expect(reply.object["ReturnValue"] is NSNull)
        #expect((reply.object["Logs"] as? [String])?.contains { $0.hasPrefix("compaction: ") } == true)
        let admin = try await compact.request("POST", "/api/admin/compact", headers: ["Authorization": "Token \(Self.adminKey)"])
        #expect(admin.status == 200)
        #expect(admin.object["failed"] as? Int == 0)
        let notAdmin = try await compact.request("POST", "/api/admin/compact", headers: ["Authorization": "Token \(Self.writeKey)"])
        #expect(notAdmin.status == 403)
        compact.stop()
        #expect(compact.stdoutLines.contains { $0.contains("\"invocation_id\":\"inv-timer\"") && $0.contains("\"route\":\"timer:compact\"") })
    }

    @Test func badSettingExitsNonZeroWithOneLine() async throws {
        let handler = try HandlerProcess("memory-add", environment: ["MEMORY_API_KEYS": "acme:owner:xyz"])
        handler.waitAndDrain()
        #expect(handler.process.terminationStatus == 2)
        let text = handler.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("MEMORY_API_KEYS"))
    }

    @Test func noKeysMeansDefaultTenantAndTheLogSaysSo() async throws {
        let storage = try temporaryStorage()
        let handler = try HandlerProcess("memory-local", environment: ["MEMORY_STORAGE": storage.path])
        defer { handler.stop() }
        _ = try await handler.waitUntilReady()
        let ping = try await handler.request("GET", "/v1/ping")
        #expect(ping.object["org_id"] as? String == "default")
        handler.stop()
        #expect(handler.stdoutLines.contains { $0.contains("no MEMORY_API_KEYS configured") })
    }

    /// A client that opens a connection and never finishes its request head is cut off after
    /// `MEMORY_HTTP_IDLE_TIMEOUT_SECONDS`, so half-open connections cannot pile up.
    @Test func aConnectionThatNeverFinishesItsRequestHeadIsClosed() async throws {
        let storage = try temporaryStorage()
        let handler = try HandlerProcess("memory-local", environment: ["MEMORY_STORAGE": storage.path,
                                                                       "MEMORY_HTTP_IDLE_TIMEOUT_SECONDS": "1"])
        defer { handler.stop() }
        _ = try await handler.waitUntilReady()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(handler.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let partial = "POST /v3/memories/add/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        _ = partial.withCString { send(fd, $0, strlen($0), 0) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = Date()
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)  // 0 = the server closed the connection; -1 after 10 s = it did not
        let waited = Date().timeIntervalSince(started)
        #expect(n == 0, "the server kept a half-open connection for \(waited) s")
        #expect(waited < 5)
        #expect(handler.process.isRunning)
    }
}
