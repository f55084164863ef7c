import Foundation
import OutgoingHTTP
import Testing
import TestSupport
@testable import ModelClients

/// The model clients' transport (issue 18): a reset on a kept-alive connection fails the attempt at once and is
/// retried; a stalled server ends the attempt at its timeout.
@Suite struct AsyncHTTPTransportTests {
    @Test func aResetConnectionIsRetriedAtOnce() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([["embeddings": "auto", "dim": 2], ["reset": true], ["embeddings": "auto", "dim": 2]])
        let sleeps = SleepRecorder()
        let client = OpenAIEmbeddingClient(
            endpoint: .openAICompatible(baseURL: server.baseURL.appendingPathComponent("v1")), auth: .none,
            requestModel: "m", dimension: 2, sendDimensions: false, batchSize: 32, retry: sleeps.policy(),
            timeout: 30)
        let answer = try await client.embed(["xy"], purpose: .document)   // the connection is kept alive after this
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try await client.embed(["xy"], purpose: .document) == answer)
        // libcurl's silent resend stalled 30 s here; a retry at once is far below. Generous because the whole test
        // process (hundreds of tests in parallel) shares two cores: under that load this once took 3.003 s.
        #expect(clock.now - started < .seconds(10), "the reset cost \(clock.now - started)")
        #expect(await sleeps.waits.count == 1, "one retry after the reset")
        #expect(try await server.recorded().requests.count == 3)
    }

    @Test func aStalledServerEndsTheAttemptAtItsTimeout() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([["embeddings": "auto", "dim": 2, "delay": 30]])
        let url = server.baseURL.appendingPathComponent("v1/embeddings").absoluteString + "?secret=not-in-errors"
        let request = HTTPRequest(method: "POST", url: try #require(URL(string: url)),
                                  headers: ["Content-Type": "application/json"],
                                  body: Data(#"{"model":"m","input":["x"]}"#.utf8), timeout: 1)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await AsyncHTTPTransport.shared.send(request)
            Issue.record("expected a timeout")
        } catch let error as TransportError {
            guard case .timedOut(let shown, let seconds) = error else {
                Issue.record("expected timedOut, got \(error)")
                return
            }
            #expect(seconds == 1)
            #expect(!shown.contains("secret"), "the URL in errors has no query: \(shown)")
        }
        let elapsed = clock.now - started
        // Far below the server's 30 s stall; generous because the whole test process shares two cores.
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10), "\(elapsed)")
    }

    @Test func aBodyThatStallsAfterTheHeadEndsTheAttemptAtItsTimeout() async throws {
        let server = try await ScriptedModelServer.start()
        defer { server.stop() }
        try await server.script([["embeddings": "auto", "dim": 2, "stall_body": 30]])
        let url = server.baseURL.appendingPathComponent("v1/embeddings")
        let request = HTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/json"],
                                  body: Data(#"{"model":"m","input":["x"]}"#.utf8), timeout: 1)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let response = try await AsyncHTTPTransport.shared.send(request)
            Issue.record("expected a timeout, got status \(response.status) after \(clock.now - started)")
        } catch let error as TransportError {
            guard case .timedOut(_, let seconds) = error else {
                Issue.record("expected timedOut, got \(error)")
                return
            }
            #expect(seconds == 1)
        }
        let elapsed = clock.now - started
        // The head arrives at once; only the body stalls (30 s). The attempt's deadline covers the body too.
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10), "\(elapsed)")
    }
}
