import Foundation
import Testing

/// Runs the built `memory-tool` executable, as the process tests need real processes.
///
/// The binary is looked up next to the test bundle (`.build/debug/memory-tool`). `swift test` does not build
/// executables the tests do not link, so run `swift build` (or `swift build --product memory-tool`) first.
enum ToolProcess {
    static func binary() throws -> URL {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MEMORY_TOOL_BINARY"] { candidates.append(URL(fileURLWithPath: env)) }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("memory-tool"))
            dir = dir.deletingLastPathComponent()
        }
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("memory-tool")) }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath)
        candidates.append(cwd.appendingPathComponent(".build/debug/memory-tool"))
        if let found = candidates.first(where: { fm.isExecutableFile(atPath: $0.path) }) { return found }
        throw ToolError.missing("memory-tool binary not found next to the test bundle; run `swift build` before `swift test` (looked in \(candidates.map(\.path)))")
    }

    enum ToolError: Error, CustomStringConvertible {
        case missing(String)
        case failed(String)
        var description: String {
            switch self {
            case .missing(let s), .failed(let s): return s
            }
        }
    }

    /// A started process with its stdout collected in the background.
    final class Running: @unchecked Sendable {
        // `@unchecked`: `buffer` is only touched while holding `lock`.
        let process: Process
        private let lock = NSLock()
        private var buffer = Data()
        private var errBuffer = Data()

        let drained = DispatchGroup()

        init(process: Process) { self.process = process }

        func appendOut(_ d: Data) { lock.lock(); buffer.append(d); lock.unlock() }
        func appendErr(_ d: Data) { lock.lock(); errBuffer.append(d); lock.unlock() }

        var output: String { lock.lock(); defer { lock.unlock() }; return String(decoding: buffer, as: UTF8.self) }
        var errors: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errBuffer, as: UTF8.self) }

        /// Complete lines only (a line cut by a kill is dropped).
        var lines: [String] {
            let s = output
            var parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if !s.hasSuffix("\n") { parts.removeLast() } else { parts.removeLast() }
            return parts
        }

        func kill9() { Foundation.kill(process.processIdentifier, SIGKILL) }

        /// Waits for exit (polling, so a hung child fails the test instead of hanging it).
        func wait(timeout: TimeInterval = 300) async throws -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                if Date() > deadline {
                    kill9()
                    throw ToolError.failed("memory-tool did not finish within \(timeout)s: \(process.arguments ?? [])")
                }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            // The readers end at EOF, which follows the exit.
            while drained.wait(timeout: .now()) == .timedOut {
                if Date() > deadline { throw ToolError.failed("output of \(process.arguments ?? []) never closed") }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            return process.terminationStatus
        }
    }

    static func start(_ args: [String]) throws -> Running {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let r = Running(process: p)
        try p.run()
        let outHandle = out.fileHandleForReading, errHandle = err.fileHandleForReading
        r.drained.enter()
        r.drained.enter()
        Thread.detachNewThread {
            r.appendOut(outHandle.readDataToEndOfFile())
            r.drained.leave()
        }
        Thread.detachNewThread {
            r.appendErr(errHandle.readDataToEndOfFile())
            r.drained.leave()
        }
        return r
    }

    /// Runs to completion; returns (exit status, stdout lines, stderr).
    static func run(_ args: [String], timeout: TimeInterval = 300) async throws -> (status: Int32, lines: [String], stderr: String) {
        let r = try start(args)
        let status = try await r.wait(timeout: timeout)
        return (status, r.lines, r.errors)
    }
}
