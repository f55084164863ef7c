import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import MemoryCore
import MemoryStorage
import ModelClients
import Testing

/// Routes end to end on the real ``MemoryService`` over a ``FileBlobStore`` in a temporary folder: tenancy,
/// roles, unknown ids and idempotent retries as a client sees them.
@Suite struct ServiceRouteTests {
    static func realApp() throws -> (Application<HandlerResponder>, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentmemory-routes-\(UUID().uuidString)")
        let config = try RuntimeConfiguration(environment: [
            "MEMORY_API_KEYS": TestKeys.setting, "MEMORY_STORAGE": folder.path, "MEMORY_EMBEDDER": "hash",
        ])
        let logger = Logger(label: "test") { label in JSONLogHandler(label: label, level: .warning, sink: LogCollector().sink) }
        let server = HandlerServer(configuration: config, role: .local, logger: logger)
        return (server.application(port: 0), folder)
    }

    @Test func anotherTenantsMemoryIsNotFoundNotForbidden() async throws {
        let (app, folder) = try Self.realApp()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await app.test(.router) { client in
            let added = try await client.call(.post, "/api/v3/memories/add/",
                body: #"{"messages":[{"role":"user","content":"acme's secret roadmap"}],"user_id":"alice","infer":false}"#,
                key: TestKeys.acmeWrite)
            #expect(added.status == 200)
            let id = try #require(added.json["results"]?.arrayValue?.first?["id"]?.stringValue)

            let own = try await client.call(.get, "/v1/memories/\(id)/", key: TestKeys.acmeRead)
            #expect(own.status == 200)
            #expect(own.json["memory"] == .string("acme's secret roadmap"))
            for (method, path) in [(HTTPRequest.Method.get, "/v1/memories/\(id)/"), (.get, "/v1/memories/\(id)/history/"),
                                   (.delete, "/v1/memories/\(id)/")] {
                let foreign = try await client.call(method, path, key: TestKeys.otherWrite)
                #expect(foreign.status == 404, "\(method) \(path) by another tenant")
            }
            let foreignUpdate = try await client.call(.put, "/v1/memories/\(id)/", body: #"{"text":"pwned"}"#, key: TestKeys.otherWrite)
            #expect(foreignUpdate.status == 404)
            let foreignSearch = try await client.call(.post, "/v3/memories/search/",
                body: #"{"query":"roadmap","filters":{"user_id":"alice"}}"#, key: TestKeys.otherWrite)
            #expect(foreignSearch.json["results"] == .array([]))
            // Still intact for its owner.
            let after = try await client.call(.get, "/v1/memories/\(id)/", key: TestKeys.acmeRead)
            #expect(after.json["memory"] == .string("acme's secret roadmap"))

            let unknown = try await client.call(.get, "/v1/memories/\(UUID().uuidString)/", key: TestKeys.acmeRead)
            #expect(unknown.status == 404)
            #expect(unknown.json["detail"] != nil)
            let readWrites = try await client.call(.delete, "/v1/memories/\(id)/", key: TestKeys.acmeRead)
            #expect(readWrites.status == 403)
        }
    }

    @Test func idempotencyKeyHeaderMakesRetriesSafe() async throws {
        let (app, folder) = try Self.realApp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let body = #"{"messages":[{"role":"user","content":"book the 9am train"}],"user_id":"bob","infer":false}"#
        try await app.test(.router) { client in
            let first = try await client.call(.post, "/v3/memories/add/", body: body, key: TestKeys.acmeWrite,
                                              headers: ["Idempotency-Key": "retry-1"])
            let second = try await client.call(.post, "/v3/memories/add/", body: body, key: TestKeys.acmeWrite,
                                               headers: ["Idempotency-Key": "retry-1"])
            #expect(first.status == 200)
            #expect(second.json == first.json)
            let list = try await client.call(.post, "/v3/memories/", body: #"{"filters":{"user_id":"bob"}}"#, key: TestKeys.acmeRead)
            #expect(list.json["count"] == .number(1))
        }
    }
}
