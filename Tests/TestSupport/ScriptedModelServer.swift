import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ModelClients

/// Shared by the ModelClients and MemoryCore tests.
/// Runs `Tests/model-server/scripted_openai_server.py` on loopback for one test, scripts its answers and
/// reads back what it received. Started by ``start()``; stopped by `stop()` (and on deinit as a safety net).
public final class ScriptedModelServer {
    public let port: Int
    private let process: Process

    /// Base URL of the server, e.g. `http://127.0.0.1:41234`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts the server and returns once it listens.
    ///
    /// The process is spawned here, on the caller's thread, as every other test helper spawns its processes:
    /// spawning many at once from threads of their own left some children whose exit Foundation's `Process`
    /// never noticed (zombies, `isRunning` true forever). Only the wait for the port line (a Python start, up to
    /// a second on two busy cores) runs on a thread of its own, so that it holds up none of the concurrency
    /// pool's few threads, and with them every other test's timers and continuations.
    public static func start() async throws -> sending ScriptedModelServer {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("model-server/scripted_openai_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--port", "0"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = await firstLine(of: stdout.fileHandleForReading)
        guard let port = Int(text) else {
            process.terminate()
            throw ScriptedServerError.startFailed(output: text)
        }
        return ScriptedModelServer(process: process, port: port)
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// The first line `handle` yields (without its newline), read on a thread of its own.
    private static func firstLine(of handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var line = Data()
                while !line.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    line += chunk
                }
                continuation.resume(returning: String(decoding: line, as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }

    deinit { stop() }

    /// Stops the server: SIGTERM, then SIGKILL if it has not exited within 10 s. Never waits more than 15 s: a
    /// child whose exit goes unnoticed is left behind rather than holding up the test run.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if exited(within: 10) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = exited(within: 5)
    }

    /// Whether the process has exited, polling for up to `seconds`.
    private func exited(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// Appends `responses` to the answer queue; `expect` (if given) replaces the request checks.
    public func script(expect: [String: Any]? = nil, _ responses: [[String: Any]]) async throws {
        var body: [String: Any] = ["responses": responses]
        if let expect { body["expect"] = expect }
        _ = try await admin("POST", "/_admin/script", body: body)
    }

    /// What the server received so far.
    public func recorded() async throws -> Recorded {
        let object = try await admin("GET", "/_admin/requests", body: nil)
        return Recorded(
            requests: (object["requests"] as? [[String: Any]]) ?? [],
            violations: (object["violations"] as? [String]) ?? [],
            remaining: (object["remaining"] as? Int) ?? -1)
    }

    public struct Recorded {
        public var requests: [[String: Any]]
        public var violations: [String]
        /// Scripted responses not used yet.
        public var remaining: Int

        public func body(_ i: Int) -> [String: Any] { (requests[i]["body"] as? [String: Any]) ?? [:] }
        public func headers(_ i: Int) -> [String: String] { (requests[i]["headers"] as? [String: String]) ?? [:] }
        public func query(_ i: Int) -> [String: String] { (requests[i]["query"] as? [String: String]) ?? [:] }
        public func path(_ i: Int) -> String { (requests[i]["path"] as? String) ?? "" }
    }

    private func admin(_ method: String, _ path: String, body: [String: Any]?) async throws -> [String: Any] {
        var request = URLRequest(url: baseURL.appendingPathComponent(path), timeoutInterval: 30)
        request.httpMethod = method
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}

public enum ScriptedServerError: Error { case startFailed(output: String) }

/// Records the waits a ``RetryPolicy`` asks for instead of sleeping.
public actor SleepRecorder {
    public init() {}
    public private(set) var waits: [TimeInterval] = []
    public func record(_ seconds: TimeInterval) { waits.append(seconds) }

    /// A fast policy whose sleeps are recorded here.
    public nonisolated func policy(maxAttempts: Int = 4, maxTotalWait: TimeInterval = 30) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, initialBackoff: 0.5, maxBackoff: 8, maxTotalWait: maxTotalWait,
                    sleep: { [self] seconds in await self.record(seconds) }, random: { 0.5 })
    }
}

/// Chat answers in the shape of the server's `chat` script entries.
public func chatEntry(_ content: String?, finishReason: String = "stop", refusal: String? = nil,
               prompt: Int = 11, completion: Int = 7) -> [String: Any] {
    var chat: [String: Any] = ["finish_reason": finishReason,
                               "usage": ["prompt_tokens": prompt, "completion_tokens": completion]]
    chat["content"] = content ?? NSNull()
    chat["refusal"] = refusal ?? NSNull()
    return ["chat": chat]
}
