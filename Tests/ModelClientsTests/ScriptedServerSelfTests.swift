import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The scripted server's request checks really reject bad requests (so `violations == []` elsewhere means
/// something).
@Suite struct ScriptedServerSelfTests {
    func post(_ server: ScriptedModelServer, _ path: String, headers: [String: String], body: String) async throws -> Int {
        var request = URLRequest(url: URL(string: server.baseURL.absoluteString + path)!, timeoutInterval: 30)
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? -1
    }

    @Test func badRequestsAreRejectedAndListed() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["auth": ["api-key": "right"]], [["embeddings": "auto"]])
        let json = ["Content-Type": "application/json"]
        var wrongKey = json
        wrongKey["api-key"] = "wrong"
        #expect(try await post(server, "/openai/deployments/e/embeddings", headers: wrongKey, body: #"{"input":["a"]}"#) == 400)
        var rightKey = json
        rightKey["api-key"] = "right"
        #expect(try await post(server, "/openai/v1/embeddings?api-version=2024-10-21", headers: rightKey,
                               body: #"{"input":[""]}"#) == 400)
        let looseSchema = #"""
            {"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema",
             "json_schema":{"name":"x","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}
            """#
        #expect(try await post(server, "/v1/chat/completions", headers: rightKey, body: looseSchema) == 400)
        #expect(try await post(server, "/v1/chat/completions", headers: rightKey,
                               body: #"{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"#) == 400)
        #expect(try await post(server, "/v2/other", headers: rightKey, body: "{}") == 404)
        let seen = try await server.recorded()
        let expectedFragments = [
            "without exactly one api-version", "header api-key is 'wrong'", "must not carry api-version",
            "model missing from the body", "empty string", "additionalProperties must be false",
            "required must list every property", "needs the word JSON", "unknown path",
        ]
        for fragment in expectedFragments {
            #expect(seen.violations.contains { $0.contains(fragment) }, "no violation mentions \(fragment)")
        }
        #expect(seen.remaining == 1)
    }
}
