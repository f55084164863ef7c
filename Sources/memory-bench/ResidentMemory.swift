import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process's resident set size, read from `/proc/self/statm` (Linux; 0 elsewhere), for benchmarks.
enum ResidentMemory {
    /// Resident bytes now.
    static func bytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Resident bytes after handing malloc's free pages back to the OS (`malloc_trim`).
    static func trimmedBytes() -> Int {
        #if canImport(Glibc)
        // glibc's `malloc_trim` is not in the Glibc module map: look it up.
        if let symbol = dlsym(nil, "malloc_trim") {
            typealias Trim = @convention(c) (Int) -> Int32
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
        return bytes()
    }
}
