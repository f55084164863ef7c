import ArgumentParser
import Foundation
import ModelClients
#if canImport(Glibc)
import Glibc
#endif

/// `memory-bench http`: the handler executables as the Functions host runs them.
///
/// 1. Cold start: time from `exec` of each handler to its first answer to `GET /` (polled every 1 ms).
///    Target: < 100 ms.
/// 2. Warm search: `memory-local` (hashing embedder, or MiniLM with `--warm-embedder minilm`; folder storage)
///    seeded with N memories in one user's
///    partition, then sequential `POST /api/v3/memories/search/` over one keep-alive connection.
///    Target: < 5 ms median at 10k memories.
/// 3. Cold search with MiniLM (`--cold-search-memories`, skipped with 0 or without the weights): a folder seeded
///    once with that many MiniLM memories; then each run execs `memory-local` on it and times exec → the answer
///    to the first `POST /api/v3/memories/search/` (sent as soon as the port accepts), first with every memory
///    still in the log, then again after `POST /api/v1/admin/compact` folded it into a snapshot (the steady state
///    under the compaction timer). Targets: ≤ 70 ms at 1k, ≤ 100 ms at 10k.
/// 4. Durable adds with MiniLM (`--add-clients`, e.g. `1,4`; skipped when empty or without the weights): each
///    client on its own connection and thread sends one-message `infer=false` adds for one user for
///    `--add-seconds`; prints adds/s and latency per client count. Target: ≥ 400 adds/s with 4 clients.
struct HTTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "Handler cold start and warm HTTP search latency.")

    @Option(help: "Memories in the searched partition.") var memories = 10_000
    @Option(help: "Timed searches.") var queries = 500
    @Option(help: "Cold starts per executable (at least 1).") var starts = 7
    @Option(help: "Directory holding the handler executables (default: next to memory-bench).") var binDir: String?
    @Option(help: "Memories for the MiniLM cold-search measurement (0 skips it).") var coldSearchMemories = 1000
    @Option(help: "Client counts for the MiniLM add-throughput measurement, comma-separated (empty skips it).")
    var addClients = "1,4"
    @Option(help: "Seconds per add-throughput run.") var addSeconds = 5.0
    @Option(help: "Embedder of the add-throughput measurement: minilm, or hash (storage and HTTP without the model).")
    var addEmbedder = "minilm"
    @Option(help: "Embedder of the warm-search measurement: hash or minilm.") var warmEmbedder = "hash"
    @Option(help: "MiniLM model folder (default: $MEMORY_MINILM_PATH or ./models/all-MiniLM-L6-v2).") var modelPath: String?

    func validate() throws {
        guard starts >= 1 else { throw ValidationError("--starts must be at least 1") }
    }

    func run() async throws {
        let bin = URL(fileURLWithPath: binDir ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        print("machine: \(BenchMachine.describe())")
        print("binaries: \(bin.path)")

        print("\n== cold start: exec -> first GET / answer (\(starts) runs each)")
        for exe in ["memory-search", "memory-add", "memory-compact", "memory-local"] {
            var samples: [Double] = []
            for _ in 0..<starts {
                let storage = try BenchMachine.tempDir()
                let port = try RawHTTP.freePort()
                let started = DispatchTime.now().uptimeNanoseconds
                let p = try BenchMachine.spawn(bin.appendingPathComponent(exe), port: port, storage: storage)
                var answered = false
                while !answered && p.isRunning {
                    if let c = try? RawHTTP(port: port), (try? c.request("GET", "/", body: nil)) != nil { answered = true; break }
                    usleep(1000)
                }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                p.terminate(); p.waitUntilExit()
                try? FileManager.default.removeItem(at: storage)
                guard answered else { throw ValidationError("\(exe) exited before answering GET /") }
                samples.append(ms)
            }
            print(BenchMachine.summary(exe.padding(toLength: 16, withPad: " ", startingAt: 0), samples))
        }

        try coldSearch(bin: bin)
        try concurrentAdds(bin: bin)

        var warmEnvironment: [String: String] = [:]
        if warmEmbedder == "minilm" {
            guard let model = miniLMFolder(for: "warm search with MiniLM") else { return }
            warmEnvironment = ["MEMORY_EMBEDDER": "minilm", "MEMORY_MINILM_PATH": model.path]
        } else if warmEmbedder != "hash" {
            throw ValidationError("--warm-embedder is hash or minilm, not \(warmEmbedder)")
        }
        print("\n== warm search over HTTP: \(memories) memories in one partition, \(warmEmbedder) embedder, \(queries) queries")
        let storage = try BenchMachine.tempDir()
        defer { try? FileManager.default.removeItem(at: storage) }
        let port = try RawHTTP.freePort()
        let server = try BenchMachine.spawn(bin.appendingPathComponent("memory-local"), port: port, storage: storage,
                                            environment: warmEnvironment)
        defer { server.terminate(); server.waitUntilExit() }
        var client: RawHTTP?
        for _ in 0..<5000 where client == nil {
            if let c = try? RawHTTP(port: port), (try? c.request("GET", "/", body: nil)) != nil { client = c } else { usleep(2000) }
        }
        guard let http = client else { throw ValidationError("memory-local did not start") }

        let vocabulary = ["coffee", "tea", "flight", "window", "aisle", "meeting", "morning", "evening", "python", "swift",
                          "allergy", "peanut", "project", "deadline", "ticket", "printer", "router", "budget", "invoice",
                          "holiday", "lisbon", "berlin", "tokyo", "nurse", "teacher", "garden", "bicycle", "piano", "chess"]
        var rng = SplitMix(seed: 42)
        let seedStart = Date()
        var added = 0
        while added < memories {
            let n = min(200, memories - added)
            var messages: [String] = []
            for i in 0..<n {
                let words = (0..<8).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
                messages.append(#"{"role":"user","content":"fact \#(added + i): \#(words.joined(separator: " "))"}"#)
            }
            let body = #"{"messages":[\#(messages.joined(separator: ","))],"user_id":"bench-user","infer":false}"#
            let (status, text) = try http.request("POST", "/api/v3/memories/add/", body: body)
            guard status == 200 else { throw ValidationError("seeding failed: \(status) \(text.prefix(300))") }
            added += n
        }
        print(String(format: "seeded %d memories in %.1f s", added, Date().timeIntervalSince(seedStart)))

        let queryTexts = (0..<50).map { i in
            "\(vocabulary[i % vocabulary.count]) \(vocabulary[(i * 7 + 3) % vocabulary.count])"
        }
        func search(_ q: String) throws -> Int {
            let (status, _) = try http.request("POST", "/api/v3/memories/search/",
                                               body: #"{"query":"\#(q)","filters":{"user_id":"bench-user"},"top_k":10}"#)
            return status
        }
        for q in queryTexts { guard try search(q) == 200 else { throw ValidationError("search failed") } }  // warm-up
        var samples: [Double] = []
        for i in 0..<queries {
            let t = DispatchTime.now().uptimeNanoseconds
            let status = try search(queryTexts[i % queryTexts.count])
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            guard status == 200 else { throw ValidationError("search answered \(status)") }
        }
        print(BenchMachine.summary("search (top 10)", samples))
    }

    /// Section 3: exec → first search answer on an existing MiniLM partition.
    private func coldSearch(bin: URL) throws {
        guard coldSearchMemories > 0 else { return }
        guard let model = miniLMFolder(for: "cold search with MiniLM") else { return }
        let environment = ["MEMORY_EMBEDDER": "minilm", "MEMORY_MINILM_PATH": model.path]
        let storage = try BenchMachine.tempDir()
        defer { try? FileManager.default.removeItem(at: storage) }
        let exe = bin.appendingPathComponent("memory-local")
        let seedPort = try RawHTTP.freePort()
        let seeder = try BenchMachine.spawn(exe, port: seedPort, storage: storage, environment: environment)
        var client: RawHTTP?
        for _ in 0..<5000 where client == nil {
            if let c = try? RawHTTP(port: seedPort), (try? c.request("GET", "/", body: nil)) != nil { client = c } else { usleep(2000) }
        }
        guard let http = client else { seeder.terminate(); throw ValidationError("memory-local (MiniLM) did not start") }
        let corpus = EmbedBenchCorpus.sentences(count: 256)
        var added = 0
        while added < coldSearchMemories {
            let n = min(100, coldSearchMemories - added)
            let messages = (0..<n).map { i in #"{"role":"user","content":"\#(corpus[(added + i) % corpus.count]) (\#(added + i))"}"# }
            let body = #"{"messages":[\#(messages.joined(separator: ","))],"user_id":"bench-user","infer":false}"#
            let (status, text) = try http.request("POST", "/api/v3/memories/add/", body: body)
            guard status == 200 else { seeder.terminate(); throw ValidationError("seeding failed: \(status) \(text.prefix(300))") }
            added += n
        }
        seeder.terminate(); seeder.waitUntilExit()

        print("\n== cold search with MiniLM: exec memory-local -> first search answer, \(added) memories (\(starts) runs)")
        try firstSearches(exe: exe, storage: storage, environment: environment,
                          label: "first search, log only (never compacted)")
        // The steady state: the compaction timer has folded the log into a snapshot.
        let compactPort = try RawHTTP.freePort()
        let compactor = try BenchMachine.spawn(exe, port: compactPort, storage: storage, environment: environment)
        var answer: (Int, String)?
        for _ in 0..<5000 where answer == nil {
            if let c = try? RawHTTP(port: compactPort), let a = try? c.request("POST", "/api/v1/admin/compact", body: "{}") {
                answer = a
            } else {
                usleep(2000)
            }
        }
        compactor.terminate(); compactor.waitUntilExit()
        guard let answer, answer.0 == 200 else {
            throw ValidationError("compaction failed: \(answer.map { "\($0.0) \($0.1.prefix(300))" } ?? "no answer")")
        }
        try firstSearches(exe: exe, storage: storage, environment: environment, label: "first search, compacted")
    }

    /// `starts` new `memory-local` processes on `storage`, each timed from exec to its first search answer.
    private func firstSearches(exe: URL, storage: URL, environment: [String: String], label: String) throws {
        let search = #"{"query":"what does the user prefer in the editor?","filters":{"user_id":"bench-user"},"top_k":10}"#
        var samples: [Double] = []
        for _ in 0..<starts {
            let port = try RawHTTP.freePort()
            let started = DispatchTime.now().uptimeNanoseconds
            let p = try BenchMachine.spawn(exe, port: port, storage: storage, environment: environment)
            var answer: (Int, String)?
            while answer == nil && p.isRunning {
                if let c = try? RawHTTP(port: port), let a = try? c.request("POST", "/api/v3/memories/search/", body: search) {
                    answer = a
                } else {
                    usleep(500)
                }
            }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            p.terminate(); p.waitUntilExit()
            guard let answer, answer.0 == 200, answer.1.contains("\"id\"") else {
                throw ValidationError("the first search did not find memories: \(answer.map { "\($0.0) \($0.1.prefix(300))" } ?? "process exited")")
            }
            samples.append(ms)
        }
        print(BenchMachine.summary(label, samples))
    }

    /// The MiniLM model folder, or nil (with a note) when the weights are missing.
    private func miniLMFolder(for section: String) -> URL? {
        let model = modelPath.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? MiniLMEmbedder.modelDirectory()
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("model.safetensors").path) else {
            print("\n== \(section): skipped, no weights in \(model.path) (scripts/fetch-minilm.sh)")
            return nil
        }
        return model
    }

    /// Section 4: adds per second with 1…N concurrent clients (MiniLM, or `--add-embedder hash` to see the HTTP and
    /// storage path alone; durable folder storage).
    private func concurrentAdds(bin: URL) throws {
        let counts = addClients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty else { return }
        var environment = ["MEMORY_EMBEDDER": "hash"]
        if addEmbedder == "minilm" {
            guard let model = miniLMFolder(for: "adds with MiniLM") else { return }
            environment = ["MEMORY_EMBEDDER": "minilm", "MEMORY_MINILM_PATH": model.path]
        } else if addEmbedder != "hash" {
            throw ValidationError("--add-embedder is minilm or hash, not \(addEmbedder)")
        }
        let storage = try BenchMachine.tempDir()
        defer { try? FileManager.default.removeItem(at: storage) }
        let port = try RawHTTP.freePort()
        let server = try BenchMachine.spawn(bin.appendingPathComponent("memory-local"), port: port, storage: storage,
                                            environment: environment)
        defer { server.terminate(); server.waitUntilExit() }
        var ready = false
        for _ in 0..<5000 where !ready {
            if let c = try? RawHTTP(port: port), (try? c.request("GET", "/", body: nil)) != nil { ready = true } else { usleep(2000) }
        }
        guard ready else { throw ValidationError("memory-local (MiniLM) did not start") }
        let corpus = EmbedBenchCorpus.sentences(count: 256)
        print("\n== durable adds with \(addEmbedder) over HTTP: one-message adds, one user, \(addSeconds) s per run")
        for clients in counts where clients > 0 {
            let results = AddResults()
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(addSeconds * 1e9)
            let group = DispatchGroup()
            let started = DispatchTime.now().uptimeNanoseconds
            for client in 0..<clients {
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    guard let http = try? RawHTTP(port: port) else { results.fail("connect"); return }
                    var i = 0
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        let text = "\(corpus[(client * 97 + i) % corpus.count]) (client \(client), add \(i))"
                        let body = #"{"messages":[{"role":"user","content":"\#(text)"}],"user_id":"bench-adds","infer":false}"#
                        let t = DispatchTime.now().uptimeNanoseconds
                        let response = try? http.request("POST", "/api/v3/memories/add/", body: body)
                        guard let response, response.0 == 200 else {
                            results.fail("an add answered \(response.map { "\($0.0) \($0.1.prefix(200))" } ?? "nothing")")
                            return
                        }
                        results.record(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                        i += 1
                    }
                }
                thread.start()
            }
            group.wait()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let (latencies, failure) = results.snapshot()
            if let failure { throw ValidationError("adds with \(clients) clients: \(failure)") }
            print(String(format: "%d client(s): %.0f adds/s (%d in %.1f s)", clients, Double(latencies.count) / seconds,
                         latencies.count, seconds))
            print(BenchMachine.summary("  add latency   ", latencies))
        }
    }
}

/// Latencies collected by the add clients' threads. `@unchecked Sendable`: all state is guarded by `lock`.
final class AddResults: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var failure: String?

    func record(_ milliseconds: Double) { lock.withLock { latencies.append(milliseconds) } }
    func fail(_ reason: String) { lock.withLock { failure = failure ?? reason } }
    func snapshot() -> ([Double], String?) { lock.withLock { (latencies, failure) } }
}

/// Machine description, process spawning and percentile summaries for the HTTP benchmark.
enum BenchMachine {
    static func describe() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(cpu)"
    }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("agentmemory-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func spawn(_ exe: URL, port: Int, storage: URL, environment: [String: String] = [:]) throws -> Process {
        try spawn(exe, port: port, environment: ["MEMORY_STORAGE": storage.path].merging(environment) { _, new in new })
    }

    /// Starts a handler with the benchmark's settings plus `environment` (which wins), output discarded.
    static func spawn(_ exe: URL, port: Int, environment: [String: String]) throws -> Process {
        let p = Process()
        p.executableURL = exe
        p.environment = ["PATH": "/usr/bin:/bin", "FUNCTIONS_CUSTOMHANDLER_PORT": String(port),
                         "MEMORY_EMBEDDER": "hash", "MEMORY_LOG_LEVEL": "warning", "MEMORY_LOCAL_COMPACT_SECONDS": "0",
                         // Passed through so `MEMORY_MINILM_BACKEND=float memory-bench http` compares the float model.
                         "MEMORY_MINILM_BACKEND": ProcessInfo.processInfo.environment["MEMORY_MINILM_BACKEND"] ?? ""]
            .merging(environment) { _, new in new }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func summary(_ label: String, _ samples: [Double]) -> String {
        let s = samples.sorted()
        func pct(_ p: Double) -> Double { s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))] }
        return String(format: "%@ n=%d  median %.2f ms  p90 %.2f ms  p99 %.2f ms  min %.2f ms  max %.2f ms",
                      label, s.count, pct(0.5), pct(0.9), pct(0.99), s.first ?? 0, s.last ?? 0)
    }
}

/// Deterministic random numbers for the benchmark corpus.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A minimal blocking HTTP/1.1 client over one keep-alive loopback connection, so the benchmark measures the
/// handler, not a client library.
final class RawHTTP {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { close(fd); throw ValidationError("connect failed") }
    }

    deinit { close(fd) }

    /// Sends one request and reads the whole response (Content-Length framed). Returns status and body text.
    func request(_ method: String, _ path: String, body: String?, headers: [String: String] = [:]) throws -> (Int, String) {
        let payload = Array((body ?? "").utf8)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + payload
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ValidationError("send failed") }
            sent += n
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = find(separator)
            if headerEnd == nil { try fill() }
        }
        let headerText = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        let lines = headerText.split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        let start = headerEnd! + 4
        while buffer.count < start + length { try fill() }
        let text = String(decoding: buffer[start..<(start + length)], as: UTF8.self)
        buffer.removeFirst(start + length)
        return (status, text)
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] && Array(buffer[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ValidationError("connection closed") }
        buffer.append(contentsOf: chunk[0..<n])
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
