import Foundation

/// Which matrix-multiply implementation the encoder uses.
public enum MiniLMMatrixBackend: String, Sendable, CaseIterable {
    /// OpenBLAS if `libopenblas.so.0` loads, else the Swift kernel.
    case automatic
    /// System OpenBLAS via `dlopen`; loading fails if it is missing.
    case openBLAS
    /// The portable SIMD-tiled Swift kernel (``SwiftSGEMM``), split over all cores.
    case swiftSIMD
}

/// A dense (fully connected) layer `y = x · Wᵀ + b` with `W` stored `[outFeatures, inFeatures]` row-major as in
/// PyTorch, plus the same weights packed into column panels for the Swift kernel when that kernel is in use.
struct DenseLayer: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    let weight: [Float]
    let bias: [Float]
    /// ``SwiftSGEMM/pack(weight:outFeatures:inFeatures:)`` of `weight`, or empty when OpenBLAS is used.
    let packed: [Float]

    init(weight: [Float], bias: [Float], outFeatures: Int, inFeatures: Int, packForSwiftKernel: Bool) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
        self.packed = packForSwiftKernel
            ? SwiftSGEMM.pack(weight: weight, outFeatures: outFeatures, inFeatures: inFeatures) : []
    }

    /// Concatenates layers with the same input along the output dimension (Q, K and V → one layer).
    static func fused(_ layers: [DenseLayer], packForSwiftKernel: Bool) -> DenseLayer {
        DenseLayer(
            weight: layers.flatMap(\.weight), bias: layers.flatMap(\.bias),
            outFeatures: layers.reduce(0) { $0 + $1.outFeatures }, inFeatures: layers[0].inFeatures,
            packForSwiftKernel: packForSwiftKernel)
    }
}

/// Runs dense layers on the chosen backend.
struct MatrixMultiplier: Sendable {
    let blas: OpenBLAS?
    /// Threads the Swift kernel and attention may use (OpenBLAS manages its own pool).
    let threads: Int

    init(blas: OpenBLAS?, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.blas = blas
        self.threads = max(1, threads)
    }

    var usesSwiftKernel: Bool { blas == nil }
    var name: String { blas.map { "OpenBLAS (\($0.library))" } ?? "Swift SIMD kernel" }

    init(backend: MiniLMMatrixBackend, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        self.threads = max(1, threads)
        switch backend {
        case .swiftSIMD:
            blas = nil
        case .automatic:
            blas = OpenBLAS.load()
        case .openBLAS:
            guard let loaded = OpenBLAS.load() else {
                throw ModelClientError.notConfigured(
                    provider: "all-MiniLM-L6-v2",
                    remedy: "the OpenBLAS backend was requested but libopenblas.so.0 could not be loaded; "
                        + "install it (apt-get install libopenblas0) or use the automatic/swiftSIMD backend")
            }
            blas = loaded
        }
    }

    /// Multiply-adds below which a BLAS multiply stays on one core (waking another costs more).
    static let parallelBLASWork = 1 << 20

    /// `output[rows × outFeatures] = input[rows × inFeatures] · Wᵀ + b`.
    ///
    /// With OpenBLAS (kept single-threaded), a large multiply is split by output columns into one
    /// `cblas_sgemm` per core: `W` is row-major `[out, in]`, so each part's weights are a contiguous block.
    func apply(_ layer: DenseLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let n = layer.outFeatures, k = layer.inFeatures
        if let blas {
            layer.bias.withUnsafeBufferPointer { bias in
                for r in 0..<rows { (output + r * n).update(from: bias.baseAddress!, count: n) }
            }
            let parts = threads > 1 && rows * n * k >= Self.parallelBLASWork ? min(threads, n / 64) : 1
            layer.weight.withUnsafeBufferPointer { weight in
                let weightBits = Int(bitPattern: weight.baseAddress), inputBits = Int(bitPattern: input)
                let outputBits = Int(bitPattern: output)
                // Each part writes its own columns of `output`: disjoint cells.
                let multiplyPart: @Sendable (Int) -> Void = { p in
                    let lo = n * p / parts / 16 * 16, hi = p == parts - 1 ? n : n * (p + 1) / parts / 16 * 16
                    blas.sgemm(OpenBLAS.rowMajor, OpenBLAS.noTranspose, OpenBLAS.transpose,
                               Int32(rows), Int32(hi - lo), Int32(k),
                               1, UnsafePointer<Float>(bitPattern: inputBits), Int32(k),
                               UnsafePointer<Float>(bitPattern: weightBits)! + lo * k, Int32(k),
                               1, UnsafeMutablePointer<Float>(bitPattern: outputBits)! + lo, Int32(n))
                }
                if parts == 1 { multiplyPart(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: multiplyPart) }
            }
        } else {
            layer.packed.withUnsafeBufferPointer { packed in
                layer.bias.withUnsafeBufferPointer { bias in
                    SwiftSGEMM.multiply(a: input, rows: rows, inner: k, packedB: packed.baseAddress!,
                                        columns: n, bias: bias.baseAddress!, c: output, threads: threads)
                }
            }
        }
    }
}
