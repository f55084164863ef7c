import Foundation

/// Refuses to start on a CPU without the instructions the numeric targets are compiled for.
///
/// `MemoryStorage`, `ModelClients` and `MemoryCore` are built for x86-64-v3 (see `Package.swift`). On an
/// older CPU their first vector loop would kill the process with SIGILL and no explanation; this check runs
/// before any of them and names the problem and the fix instead.
enum CPUFeatureCheck {
    /// The `/proc/cpuinfo` flags x86-64-v3 implies (LZCNT is reported as `abm`).
    static let requiredFlags = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"]

    /// The missing flags, or `[]` when the CPU qualifies or cannot be inspected (not Linux x86-64).
    static func missingFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> [String] {
        #if arch(x86_64) && os(Linux)
        guard let cpuinfo,
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let list = line.split(separator: ":", maxSplits: 1).last
        else { return [] }
        let present = Set(list.split(separator: " ").map(String.init))
        return requiredFlags.filter { !present.contains($0) }
        #else
        return []
        #endif
    }

    /// The line to print when the CPU lacks `missing`.
    static func failureMessage(missing: [String]) -> String {
        "this CPU lacks \(missing.joined(separator: ", ")), which this build needs (x86-64-v3: AVX2, FMA, BMI2); "
            + "run on a newer host (every Azure Functions plan has them) or rebuild without `vectorKernelSettings` in Package.swift"
    }
}
