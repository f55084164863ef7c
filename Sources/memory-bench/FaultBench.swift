import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `memory-bench faults`: adds under storage faults, against the Blob test server (`Tests/blob-server`).
///
/// 1. Probe: on a quiet handler, one add per fault kind with that fault injected into the add's append, timing the
///    add and the CPU seconds the handler used while it waited (from `/proc/<pid>/stat`).
/// 2. Soak: `memory-local` on the Blob test server, `--clients` clients adding for `--seconds` while one blob
///    request per second (any operation) gets a random fault. A client whose add fails or breaks retries it with
///    the same `Idempotency-Key` until it is acknowledged. Then the faults are cleared, the handler restarted,
///    and every acknowledged memory must be listed exactly once (0 lost, 0 duplicated), before and after the
///    restart. Target: add p99, retries included, at most 5 s.
struct FaultBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults", abstract: "Adds under injected Blob storage faults: latency, CPU while waiting, exactly-once.")

    @Option(help: "Soak duration in seconds.") var seconds = 60
    @Option(help: "Concurrent clients.") var clients = 4
    @Option(help: "Faulted blob requests per second during the soak.") var faultsPerSecond = 1.0
    @Option(help: "The Blob test server script.") var blobServer = "Tests/blob-server/blob_server.py"
    @Option(help: "Directory holding memory-local (default: next to memory-bench).") var binDir: String?

    /// The fault kinds drawn during the soak and probed one by one (mode, status).
    static let kinds: [(mode: String, status: Int)] = [
        ("status", 503), ("status", 500), ("drop-before", 0), ("drop-after", 0), ("reset-before", 0),
        ("reset-after", 0), ("incomplete-after", 0), ("truncate-after", 0), ("delay", 0),
    ]

    func run() async throws {
        let bin = URL(fileURLWithPath: binDir ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        print("machine: \(BenchMachine.describe()), load average \(Self.loadAverage())")
        let blob = try BlobTestServer(script: blobServer)
        let handler = try FaultBenchHandler(exe: bin.appendingPathComponent("memory-local"), blob: blob)

        print("\n== probe: one add per fault kind, the fault on its append (quiet handler)")
        for kind in Self.kinds {
            let http = try handler.connect()
            try blob.injectFault(op: "appendblock", mode: kind.mode, status: kind.status, count: 1)
            let cpuBefore = handler.cpuSeconds()
            let started = DispatchTime.now().uptimeNanoseconds
            let (status, _) = try http.request("POST", "/api/v3/memories/add/", body: Self.addBody(
                user: "probe", text: "probe \(kind.mode) \(kind.status) \(UUID().uuidString)"))
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let cpu = handler.cpuSeconds() - cpuBefore
            let label = kind.mode == "status" ? "HTTP \(kind.status)" : kind.mode
            print(String(format: "%@ add %d in %.2f s, handler CPU %.3f s", label.padding(toLength: 17, withPad: " ",
                                                                                          startingAt: 0), status, elapsed, cpu))
            try blob.clearFaults()
        }

        print("\n== soak: \(clients) clients, \(seconds) s, \(faultsPerSecond) faulted blob request(s)/s, any operation")
        let cpuBefore = handler.cpuSeconds()
        let deadline = Date().addingTimeInterval(Double(seconds))
        let results = SoakResults()
        var threads: [Thread] = []
        let done = DispatchGroup()
        for client in 0..<clients {
            done.enter()
            let port = handler.port
            let thread = Thread {
                Self.client(client, port: port, until: deadline, results: results)
                done.leave()
            }
            threads.append(thread)
            thread.start()
        }
        var injected = 0
        var rng = SplitMix(seed: 7)
        let interval = 1 / max(0.01, faultsPerSecond)
        while Date() < deadline {
            let kind = Self.kinds[Int(rng.next() % UInt64(Self.kinds.count))]
            try blob.injectFault(op: "*", mode: kind.mode, status: kind.status, count: 1)
            injected += 1
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.notify(queue: .global()) { continuation.resume() }
        }
        let soakCPU = handler.cpuSeconds() - cpuBefore
        let hits = try blob.faultHits()
        try blob.clearFaults()

        let snapshot = results.snapshot()
        print("acknowledged adds \(snapshot.acknowledged.count), retried adds \(snapshot.retriedAdds), "
              + "failed tries \(snapshot.failedTries), gave up \(snapshot.gaveUp)")
        print("faults injected \(injected), blob requests faulted \(hits)")
        print(BenchMachine.summary("add incl. retries", snapshot.latenciesMs))
        print(String(format: "handler CPU during the soak: %.2f s (%.3f s per acknowledged add)", soakCPU,
                     soakCPU / Double(max(1, snapshot.acknowledged.count))))

        let before = try Self.listed(handler: handler, clients: clients)
        handler.restart()
        let after = try Self.listed(handler: handler, clients: clients)
        var lost = 0, duplicated = 0
        for text in snapshot.acknowledged {
            switch before[text, default: 0] {
            case 0: lost += 1
            case 1: break
            default: duplicated += 1
            }
        }
        print("lost \(lost), duplicated \(duplicated), listing identical after restart: \(before == after)")
        let p99 = Self.percentile(snapshot.latenciesMs, 0.99)
        print(String(format: "target: 0 lost, 0 duplicated, add p99 <= 5000 ms: %@ (p99 %.0f ms)",
                     lost == 0 && duplicated == 0 && p99 <= 5000 && before == after ? "met" : "NOT met", p99))
    }

    /// One client: adds until `deadline`, retrying each add with its `Idempotency-Key` until it is acknowledged.
    static func client(_ index: Int, port: Int, until deadline: Date, results: SoakResults) {
        var http: RawHTTP?
        var sequence = 0
        while Date() < deadline {
            sequence += 1
            let text = "client \(index) fact \(sequence) \(UUID().uuidString)"
            let key = UUID().uuidString
            let body = addBody(user: "soak-\(index)", text: text)
            let started = DispatchTime.now().uptimeNanoseconds
            var failures = 0
            var acknowledged = false
            while !acknowledged && Date() < deadline.addingTimeInterval(120) {
                do {
                    if http == nil { http = try RawHTTP(port: port) }
                    let (status, _) = try http!.request("POST", "/api/v3/memories/add/", body: body,
                                                        headers: ["Idempotency-Key": key])
                    if status == 200 { acknowledged = true; break }
                } catch {
                    http = nil
                }
                failures += 1
                usleep(100_000)
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            results.record(text: acknowledged ? text : nil, latencyMs: ms, failures: failures)
        }
    }

    static func addBody(user: String, text: String) -> String {
        #"{"messages":[{"role":"user","content":"\#(text)"}],"user_id":"\#(user)","infer":false}"#
    }

    /// How many times each memory text is listed, over every soak client's user.
    static func listed(handler: FaultBenchHandler, clients: Int) throws -> [String: Int] {
        let http = try handler.connect()
        var counts: [String: Int] = [:]
        for client in 0..<clients {
            var page = 1
            while true {
                let (status, text) = try http.request("POST", "/api/v3/memories/?page=\(page)&page_size=100",
                                                      body: #"{"filters":{"user_id":"soak-\#(client)"}}"#)
                guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                      let items = object["results"] as? [[String: Any]] else {
                    throw ValidationError("listing soak-\(client) page \(page) answered \(status): \(text.prefix(200))")
                }
                for item in items { if let memory = item["memory"] as? String { counts[memory, default: 0] += 1 } }
                if object["next"] is NSNull || object["next"] == nil || items.isEmpty { break }
                page += 1
            }
        }
        return counts
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let s = samples.sorted()
        return s.isEmpty ? 0 : s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
            .joined(separator: " ")
    }
}

/// What the soak clients observed. `@unchecked Sendable`: every stored property is read and written under `lock`.
final class SoakResults: @unchecked Sendable {
    private let lock = NSLock()
    private var acknowledged: [String] = []
    private var latenciesMs: [Double] = []
    private var retriedAdds = 0
    private var failedTries = 0
    private var gaveUp = 0

    func record(text: String?, latencyMs: Double, failures: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let text {
            acknowledged.append(text)
            latenciesMs.append(latencyMs)
        } else {
            gaveUp += 1
        }
        if failures > 0 { retriedAdds += 1 }
        failedTries += failures
    }

    func snapshot() -> (acknowledged: [String], latenciesMs: [Double], retriedAdds: Int, failedTries: Int, gaveUp: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (acknowledged, latenciesMs, retriedAdds, failedTries, gaveUp)
    }
}

/// `memory-local` on the Blob test server: started, restarted, and measured (CPU seconds from `/proc`).
final class FaultBenchHandler {
    let exe: URL
    let port: Int
    let environment: [String: String]
    private var process: Process

    init(exe: URL, blob: BlobTestServer) throws {
        self.exe = exe
        port = try RawHTTP.freePort()
        environment = ["MEMORY_STORAGE": blob.connectionString, "MEMORY_CONTAINER": "faultbench"]
        process = try BenchMachine.spawn(exe, port: port, environment: environment)
        try waitUntilReady()
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    func connect() throws -> RawHTTP { try RawHTTP(port: port) }

    func restart() {
        process.terminate()
        process.waitUntilExit()
        if let next = try? BenchMachine.spawn(exe, port: port, environment: environment) {
            process = next
            try? waitUntilReady()
        }
    }

    private func waitUntilReady() throws {
        for _ in 0..<5000 {
            if let c = try? RawHTTP(port: port), (try? c.request("GET", "/", body: nil)) != nil { return }
            guard process.isRunning else { throw ValidationError("memory-local exited at startup (storage check?)") }
            usleep(2000)
        }
        throw ValidationError("memory-local did not answer GET / within 10 s")
    }

    /// User plus system CPU seconds of the handler so far (`/proc/<pid>/stat` fields 14 and 15).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The Blob test server (`blob_server.py`) on a free port, with its fault admin endpoints. It exits when its stdin
/// closes, so the benchmark never leaves it behind.
final class BlobTestServer {
    let port: Int
    private let process: Process
    private let stdin: Pipe

    static let account = "devstoreaccount1"
    static let key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    init(script: String) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("blob test server not found at \(script): run from the repository root or pass --blob-server")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--port", "0", "--exit-on-stdin-eof"]
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("blob_server.py did not print its port (is python3 on PATH?)")
        }
        self.port = port
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    var connectionString: String {
        "DefaultEndpointsProtocol=http;AccountName=\(Self.account);AccountKey=\(Self.key);"
            + "BlobEndpoint=http://127.0.0.1:\(port)/\(Self.account);"
    }

    func injectFault(op: String, mode: String, status: Int, count: Int) throws {
        let status = status == 0 ? 503 : status
        let body = #"{"op":"\#(op)","mode":"\#(mode)","status":\#(status),"count":\#(count),"delay":1.0}"#
        let (code, text) = try RawHTTP(port: port).request("POST", "/__admin/faults", body: body)
        guard code == 200 else { throw ValidationError("injecting a fault failed: \(code) \(text)") }
    }

    func clearFaults() throws {
        _ = try RawHTTP(port: port).request("DELETE", "/__admin/faults", body: nil)
    }

    /// Blob requests faulted so far, over every rule still listed.
    func faultHits() throws -> Int {
        let (_, text) = try RawHTTP(port: port).request("GET", "/__admin/faults", body: nil)
        let rules = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
        return rules.reduce(0) { $0 + (($1["hits"] as? Int) ?? 0) }
    }
}
