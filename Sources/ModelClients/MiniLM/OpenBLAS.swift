import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `cblas_sgemm` from a system OpenBLAS, loaded at run time with `dlopen` so that the binaries still start on
/// hosts without it (Azure Functions workers have only libc/libcurl); ``MatrixMultiplier`` falls back to the
/// Swift kernel then. On Debian/Ubuntu the library is the `libopenblas0` package (`libopenblas.so.0`).
struct OpenBLAS: Sendable {
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32,
        Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
        Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void

    /// CBLAS enum values (cblas.h).
    static let rowMajor: Int32 = 101
    static let noTranspose: Int32 = 111
    static let transpose: Int32 = 112

    typealias SetThreads = @convention(c) (Int32) -> Void

    let sgemm: SGEMM
    /// `openblas_set_num_threads`, when exported. Process-wide: it changes every OpenBLAS user's pool.
    let setThreads: SetThreads?
    /// The file that was loaded, for logs and the benchmark.
    let library: String

    /// Library names tried in order.
    static let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib",
                             "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"]

    /// Loads the first OpenBLAS found, or returns nil.
    static func load() -> OpenBLAS? {
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let symbol = dlsym(handle, "cblas_sgemm") else {
                dlclose(handle)
                continue
            }
            // The handle is kept open for the life of the process (the function pointer must stay valid).
            let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            return OpenBLAS(sgemm: unsafeBitCast(symbol, to: SGEMM.self), setThreads: setThreads, library: name)
        }
        return nil
    }
}
