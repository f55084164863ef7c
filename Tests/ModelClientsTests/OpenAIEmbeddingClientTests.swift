import Foundation
import Testing
import TestSupport
@testable import ModelClients

/// The embedding client against the scripted OpenAI-compatible server on loopback.
@Suite struct OpenAIEmbeddingClientTests {
    /// The vector the scripted server returns for `text` (`[len, 1, 1, ...]`), normalised.
    func expectedVector(_ text: String, dim: Int) -> [Float] {
        l2Normalized([Float(text.count)] + [Float](repeating: 1, count: dim - 1))
    }

    @Test func azureDeploymentBatchesOrdersByIndexAndSendsKeyVersionAndDimensions() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(
            expect: ["style": "azure-deployment", "deployment": "emb-small", "api_version": "2024-10-21",
                     "auth": ["api-key": "secret-key"], "max_batch": 2],
            [["embeddings": "auto", "order": "reversed", "repeat": 3]])
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "emb-small", apiVersion: "2024-10-21"),
            auth: .apiKey("secret-key"), requestModel: "emb-small", dimension: 4, sendDimensions: true,
            batchSize: 2, retry: .none)
        let texts = ["a", "bb", "ccc", "dddd", "eeeee"]
        let vectors = try await client.embed(texts, purpose: .document)

        #expect(vectors == texts.map { expectedVector($0, dim: 4) })
        for v in vectors { #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5) }
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(seen.requests.count == 3)
        #expect(seen.path(0) == "/openai/deployments/emb-small/embeddings")
        #expect(seen.query(0)["api-version"] == "2024-10-21")
        #expect(seen.headers(0)["api-key"] == "secret-key")
        #expect(seen.body(0)["input"] as? [String] == ["a", "bb"])
        #expect(seen.body(2)["input"] as? [String] == ["eeeee"])
        #expect(seen.body(0)["dimensions"] as? Int == 4)
        #expect(seen.body(0)["model"] == nil)
        #expect(client.model == "azure-openai/emb-small@4")
    }

    @Test func azureV1PutsTheDeploymentInTheBodyAndUsesBearerTokens() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(
            expect: ["style": "azure-v1", "model": "text-embedding-3-small",
                     "auth": ["authorization": "Bearer entra-token"]],
            [["embeddings": "auto", "order": "forward", "dim": 3]])
        let client = OpenAIEmbeddingClient(
            endpoint: AzureOpenAI.endpoint(server.baseURL, deployment: "text-embedding-3-small", apiVersion: "v1"),
            auth: .bearer(StaticBearerToken("entra-token")), requestModel: "text-embedding-3-small",
            dimension: 3, sendDimensions: false, batchSize: 2048, retry: .none)
        let vector = try await client.embed("hello", purpose: .query)
        #expect(vector == expectedVector("hello", dim: 3))
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(seen.path(0) == "/openai/v1/embeddings")
        #expect(seen.query(0).isEmpty)
        #expect(seen.body(0)["dimensions"] == nil)
    }

    @Test func openAICompatibleServerGetsModelInBodyAndNoCredentials() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script(expect: ["style": "openai", "model": "nomic-embed-text", "auth": "none", "max_batch": 32],
                                [["embeddings": "auto", "dim": 6]])
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "nomic-embed-text", dimension: 6, sendDimensions: false, batchSize: 32, retry: .none)
        #expect(try await client.embed(["x", ""], purpose: .document) == [expectedVector("x", dim: 6), expectedVector(" ", dim: 6)])
        let seen = try await server.recorded()
        #expect(seen.violations == [])
        #expect(seen.path(0) == "/v1/embeddings")
        #expect(seen.body(0)["input"] as? [String] == ["x", " "])
        #expect(seen.headers(0)["authorization"] == nil && seen.headers(0)["api-key"] == nil)
        #expect(client.model == "openai/nomic-embed-text@6")
    }

    @Test func dimensionMismatchNamesBothSizes() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([["embeddings": "auto", "dim": 5]])
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "m", dimension: 768, sendDimensions: false, batchSize: 32, retry: .none)
        do {
            _ = try await client.embed(["x"], purpose: .document)
            Issue.record("expected a dimension error")
        } catch let ModelClientError.malformedResponse(_, detail) {
            #expect(detail.contains("5-dimensional") && detail.contains("768"))
        }
    }

    @Test func throttlingHonoursRetryAfterMsThenRetryAfterSeconds() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        let throttled: [String: Any] = ["error": ["code": "429", "message": "Requests have exceeded token rate limit"]]
        try await server.script([
            ["status": 429, "headers": ["retry-after-ms": "1500", "Retry-After": "9"], "json": throttled],
            ["status": 429, "headers": ["Retry-After": "2"], "json": throttled],
            ["embeddings": "auto", "dim": 4],
        ])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "e", apiVersion: "2024-10-21"),
            auth: .apiKey("k"), requestModel: "e", dimension: 4, sendDimensions: false, batchSize: 16,
            retry: sleeps.policy())
        let vectors = try await client.embed(["abc"], purpose: .document)
        #expect(vectors == [expectedVector("abc", dim: 4)])
        #expect(await sleeps.waits == [1.5, 2])
        let seen = try await server.recorded()
        #expect(seen.requests.count == 3 && seen.violations == [])
    }

    @Test func serverErrorsAreRetriedWithBackoffThenSucceed() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 503, "json": ["error": ["code": "ServiceUnavailable", "message": "busy"]]],
            ["status": 500, "raw": "oops"],
            ["embeddings": "auto", "dim": 4],
        ])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "e", apiVersion: "2024-10-21"),
            auth: .apiKey("k"), requestModel: "e", dimension: 4, sendDimensions: false, batchSize: 16,
            retry: sleeps.policy())
        _ = try await client.embed(["abc"], purpose: .document)
        // Equal jitter with random() = 0.5: 3/4 of 0.5 s, then 3/4 of 1 s.
        #expect(await sleeps.waits == [0.375, 0.75])
        #expect(try await server.recorded().requests.count == 3)
    }

    @Test func exhaustedRetriesAreTypedErrors() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 502, "json": ["error": ["message": "bad gateway"]], "repeat": 3],
            ["status": 429, "headers": ["Retry-After": "1"], "json": ["error": ["code": "429", "message": "slow"]],
             "repeat": 3],
        ])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "e", apiVersion: "2024-10-21"),
            auth: .apiKey("k"), requestModel: "e", dimension: 4, sendDimensions: false, batchSize: 16,
            retry: sleeps.policy(maxAttempts: 3))
        do {
            _ = try await client.embed(["abc"], purpose: .document)
            Issue.record("expected unavailable")
        } catch let ModelClientError.unavailable(provider, detail) {
            #expect(provider.contains("deployment 'e'"))
            #expect(detail.contains("502") && detail.contains("bad gateway"))
        }
        await #expect(throws: ModelClientError.rateLimited(
            provider: "Azure OpenAI deployment 'e' at \(server.baseURL.absoluteString) (api-version 2024-10-21)",
            retryAfter: 1)) {
            _ = try await client.embed(["abc"], purpose: .document)
        }
        let seen = try await server.recorded()
        #expect(seen.requests.count == 6 && seen.remaining == 0)
    }

    @Test func aRetryAfterBeyondTheBudgetFailsAtOnce() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 429, "headers": ["Retry-After": "45"], "json": ["error": ["code": "429", "message": "retry after 45 seconds"]]],
        ])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "e", apiVersion: "2024-10-21"),
            auth: .apiKey("k"), requestModel: "e", dimension: 4, sendDimensions: false, batchSize: 16,
            retry: sleeps.policy(maxAttempts: 5, maxTotalWait: 10))
        do {
            _ = try await client.embed(["abc"], purpose: .document)
            Issue.record("expected rateLimited")
        } catch let ModelClientError.rateLimited(_, retryAfter) {
            #expect(retryAfter == 45)
        }
        #expect(await sleeps.waits == [])
        #expect(try await server.recorded().requests.count == 1)
    }

    @Test func malformedJSONAndWrongCountsAreMalformedResponses() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 200, "raw": "{\"data\": [ {\"index\": 0, \"embedding\": [1, 2"],
            ["status": 200, "json": ["data": [["index": 0, "embedding": [1, 0]]]]],
            ["status": 200, "json": ["data": [["index": 1, "embedding": [1, 0]], ["index": 1, "embedding": [0, 1]]]]],
        ])
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "m", dimension: 2, sendDimensions: false, batchSize: 32, retry: .none)
        for expected in ["not the expected JSON", "sent 2 inputs but got 1", "out of range or repeated"] {
            do {
                _ = try await client.embed(["one", "two"], purpose: .document)
                Issue.record("expected a malformed response (\(expected))")
            } catch let ModelClientError.malformedResponse(_, detail) {
                #expect(detail.contains(expected))
            }
        }
    }

    @Test func aBatchTooLargeForTheServerIsSplit() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 422, "json": ["error": "batch size 4 > maximum allowed batch size 2", "error_type": "Validation"]],
            ["embeddings": "auto", "dim": 3, "repeat": 2],
        ])
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "tei", dimension: 3, sendDimensions: false, batchSize: 32, retry: .none)
        let texts = ["a", "bb", "ccc", "dddd"]
        #expect(try await client.embed(texts, purpose: .document) == texts.map { expectedVector($0, dim: 3) })
        let seen = try await server.recorded()
        #expect(seen.requests.map { ($0["body"] as? [String: Any])?["input"] as? [String] ?? [] }
                == [texts, ["a", "bb"], ["ccc", "dddd"]])
    }

    @Test func unauthorizedAndNotFoundAreNotRetried() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([
            ["status": 401, "json": ["error": ["code": "401", "message": "Access denied due to invalid subscription key"]]],
            ["status": 404, "json": ["error": ["code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist."]]],
        ])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .azureDeployment(endpoint: server.baseURL, deployment: "e", apiVersion: "2024-10-21"),
            auth: .apiKey("wrong"), requestModel: "e", dimension: 4, sendDimensions: false, batchSize: 16,
            retry: sleeps.policy())
        do {
            _ = try await client.embed(["x"], purpose: .document)
            Issue.record("expected unauthorized")
        } catch let ModelClientError.unauthorized(_, detail) {
            #expect(detail.contains("invalid subscription key") && detail.contains("req-scripted"))
        }
        do {
            _ = try await client.embed(["x"], purpose: .document)
            Issue.record("expected rejected")
        } catch let ModelClientError.rejected(_, status, detail) {
            #expect(status == 404 && detail.contains("DeploymentNotFound"))
        }
        #expect(await sleeps.waits == [])
    }

    @Test func timeoutsAndRefusedConnectionsAreRetriedThenReported() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([["embeddings": "auto", "dim": 2, "delay": 10], ["embeddings": "auto", "dim": 2]])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "m", dimension: 2, sendDimensions: false, batchSize: 32, retry: sleeps.policy(),
            timeout: 3)
        #expect(try await client.embed(["xy"], purpose: .document) == [expectedVector("xy", dim: 2)])
        #expect(await sleeps.waits.count == 1)

        let closedPort = server.baseURL
        server.stop()
        let refused = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: closedPort.appendingPathComponent("v1")), auth: .none,
            requestModel: "m", dimension: 2, sendDimensions: false, batchSize: 32,
            retry: SleepRecorder().policy(maxAttempts: 2))
        do {
            _ = try await refused.embed(["xy"], purpose: .document)
            Issue.record("expected unavailable")
        } catch let ModelClientError.unavailable(_, detail) {
            #expect(detail.contains("connection failed"))
        }
    }
}
