import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks glibc's `malloc` to back its heaps with transparent huge pages, by re-executing the program once with
/// `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` (glibc reads tunables only at process start).
///
/// Why: opening a 100k-memory partition allocates ~150 MB of small buffers (one vector per memory); on fresh
/// memory each 4 KiB page faults on first touch, which measured 40 % of the open (177 → 127 ms p50 with the
/// tunable). The process keeps its PID across the `execv`, so the Functions host does not notice; the cost is
/// one more program start (a few ms). Set `MEMORY_HUGE_PAGES=0` to turn it off; it is skipped where the
/// kernel has transparent huge pages disabled, or off Linux.
public enum HugePageMalloc {
    /// The setting that turns the re-exec off (`0`).
    public static let setting = "MEMORY_HUGE_PAGES"
    static let tunable = "glibc.malloc.hugetlb=1"

    /// Re-executes the current program with the tunable unless it is already set, disabled, or useless here.
    /// Returns only when no re-exec happened (including when `execv` failed: the program then simply runs on).
    public static func reexecIfNeeded(environment: [String: String] = ProcessInfo.processInfo.environment) {
        #if os(Linux)
        guard let value = tunablesValue(environment: environment, hugePagesMode: kernelMode()) else { return }
        setenv("GLIBC_TUNABLES", value, 1)
        // Execute the program's own path, not `/proc/self/exe`: the kernel names a process after the file it
        // executes, and `ps`/`ss` must keep showing `memory-search`, not `exe`.
        execv(executablePath() ?? "/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }

    /// The absolute path of the running program (the target of `/proc/self/exe`).
    static func executablePath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? nil : path
        #else
        return nil
        #endif
    }

    /// The `GLIBC_TUNABLES` value to re-execute with, or `nil` when no re-exec is wanted.
    static func tunablesValue(environment: [String: String], hugePagesMode: String?) -> String? {
        if environment[setting] == "0" { return nil }
        guard let mode = hugePagesMode, mode == "always" || mode == "madvise" else { return nil }
        let existing = environment["GLIBC_TUNABLES"] ?? ""
        if existing.contains("glibc.malloc.hugetlb") { return nil }
        return existing.isEmpty ? tunable : existing + ":" + tunable
    }

    /// The selected mode in `/sys/kernel/mm/transparent_hugepage/enabled` (`always [madvise] never` → `madvise`).
    static func kernelMode(_ contents: String? = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) -> String? {
        guard let contents, let open = contents.firstIndex(of: "["), let close = contents.firstIndex(of: "]"),
              open < close else { return nil }
        return String(contents[contents.index(after: open)..<close])
    }
}
