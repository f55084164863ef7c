import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A handler executable started the way the Azure Functions host starts it: a free loopback port in
/// `FUNCTIONS_CUSTOMHANDLER_PORT`, the app settings as environment, stdout/stderr captured, `GET /` polled
/// every 25 ms until any HTTP response.
final class HandlerProcess: @unchecked Sendable {
    // `lock` guards `stdoutData` and `stderrData`, appended from the pipes' reader threads.
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private var drained = false
    let port: Int
    let name: String

    /// The directory holding the built executables: `AGENTMEMORY_BIN_DIR`, else the test bundle's directory
    /// (`.build/debug`), else `./.build/debug`.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["AGENTMEMORY_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("memory-local").path) }
            ?? candidates[2]
    }

    init(_ name: String, environment: [String: String], port: Int? = nil) throws {
        self.name = name
        self.port = try port ?? Self.freePort()
        let exe = Self.binDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw HarnessError("\(exe.path) is not built; run `swift build` first (or set AGENTMEMORY_BIN_DIR)")
        }
        process.executableURL = exe
        var env = ["PATH": "/usr/bin:/bin", "FUNCTIONS_CUSTOMHANDLER_PORT": String(self.port),
                   "FUNCTIONS_CUSTOMHANDLER_WORKER_ID": UUID().uuidString, "MEMORY_EMBEDDER": "hash"]
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.stdoutData.append(d); self.lock.unlock()
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.stderrData.append(d); self.lock.unlock()
        }
        try process.run()
    }

    deinit { stop() }

    /// Terminates the process (if running) and collects the rest of its output.
    func stop() {
        if process.isRunning { process.terminate() }
        waitAndDrain()
    }

    /// Waits for exit, then reads what the pipes still hold.
    func waitAndDrain() {
        process.waitUntilExit()
        lock.lock()
        let already = drained
        drained = true
        lock.unlock()
        guard !already else { return }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        let restOut = out.fileHandleForReading.readDataToEndOfFile()
        let restErr = err.fileHandleForReading.readDataToEndOfFile()
        lock.lock(); stdoutData.append(restOut); stderrData.append(restErr); lock.unlock()
    }

    var stdoutLines: [String] {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: stdoutData, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    var stderrText: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Polls `GET /` every 25 ms (as the host does) until any response; fails after `timeout` or if the
    /// process exits.
    func waitUntilReady(timeout: TimeInterval = 60) async throws -> HTTPReply {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw HarnessError("\(name) exited with \(process.terminationStatus) before it was ready: \(stderrText)")
            }
            if let reply = try? await request("GET", "/", timeout: 1) { return reply }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw HarnessError("\(name) did not answer GET / within \(timeout) s")
    }

    struct HTTPReply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
    }

    /// A request as the host forwards it: its version, invocation id and user agent headers added.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:],
                 invocationId: String = UUID().uuidString, timeout: TimeInterval = 60) async throws -> HTTPReply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = method
        r.timeoutInterval = timeout
        r.setValue("4.1036.1.23224", forHTTPHeaderField: "X-Azure-Functions-HostVersion")
        r.setValue(invocationId, forHTTPHeaderField: "X-Azure-Functions-InvocationId")
        r.setValue("python-httpx/0.27 Azure-Functions-Host/4.1036.1.23224", forHTTPHeaderField: "User-Agent")
        if let body {
            r.httpBody = Data(body.utf8)
            r.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: r)
        guard let http = response as? HTTPURLResponse else { throw HarnessError("not an HTTP response") }
        var hs: [String: String] = [:]
        for (k, v) in http.allHeaderFields { hs[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPReply(status: http.statusCode, headers: hs, body: data)
    }

    /// A free TCP port on 127.0.0.1 (bind port 0, read it back, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind() failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let got = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard got == 0 else { throw HarnessError("getsockname() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A fresh temporary folder for `MEMORY_STORAGE`.
func temporaryStorage() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("agentmemory-proc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
