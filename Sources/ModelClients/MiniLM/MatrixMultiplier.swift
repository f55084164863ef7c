import Foundation

/// Which matrix-multiply implementation the encoder uses (setting `MEMORY_MINILM_BACKEND`, docs/minilm.md).
public enum MiniLMMatrixBackend: String, Sendable, CaseIterable {
    /// ``int8VNNI`` if the CPU has AVX-512 VNNI, else ``int8`` if it has AVX2 and FMA, else ``float``.
    case automatic
    /// Int8 weights and int8 activations (each token's inputs quantised to uint8 when a layer runs), the
    /// AVX-512 VNNI kernel (``Int8VNNIGEMM``); loading fails if the CPU lacks AVX-512 VNNI.
    case int8VNNI
    /// Int8 weights with a per-feature scale, float activations, the AVX2/FMA kernel (``Int8GEMM``); loading
    /// fails if the CPU lacks AVX2 or FMA.
    case int8
    /// Float weights: OpenBLAS if `libopenblas.so.0` loads, else the Swift kernel (bit-for-bit the reference
    /// model up to float rounding).
    case float
    /// Float weights on system OpenBLAS via `dlopen`; loading fails if it is missing.
    case openBLAS
    /// Float weights on the portable SIMD-tiled Swift kernel (``SwiftSGEMM``), split over all cores.
    case swiftSIMD

    /// The setting (environment variable) choosing the backend; absent or empty means ``defaultSetting``.
    public static let setting = "MEMORY_MINILM_BACKEND"

    /// What the handlers use when `MEMORY_MINILM_BACKEND` is not set: ``automatic`` (int8 activations with VNNI,
    /// else int8 weights with AVX2 and FMA, else float). Int8 costs nothing measurable in retrieval quality
    /// (LoCoMo dev recall@10, `memory-bench quality`, docs/minilm.md) and makes a query's embedding several times
    /// cheaper.
    public static let defaultSetting = MiniLMMatrixBackend.automatic
}

/// How a ``DenseLayer`` keeps its weights for the kernel that will multiply with them.
enum WeightLayout: Sendable {
    /// Row-major `[out, in]` floats (OpenBLAS).
    case rowMajor
    /// Also packed into float panels for ``SwiftSGEMM``.
    case swiftPanels
    /// Only quantised int8 panels for ``Int8GEMM`` (the float weights are dropped).
    case int8Panels
    /// Only quantised int8 panels in the VNNI layout for ``Int8VNNIGEMM`` (the float weights are dropped).
    case vnniPanels
}

/// A dense (fully connected) layer `y = x · Wᵀ + b` with `W` stored `[outFeatures, inFeatures]` row-major as in
/// PyTorch, plus the same weights packed into column panels for the Swift kernel when that kernel is in use.
struct DenseLayer: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// Row-major `[out, in]` floats; empty for ``WeightLayout/int8Panels``.
    let weight: [Float]
    let bias: [Float]
    /// ``SwiftSGEMM/pack(weight:outFeatures:inFeatures:)`` of `weight` for ``WeightLayout/swiftPanels``, else empty.
    let packed: [Float]
    /// The int8 weights for ``WeightLayout/int8Panels``, else nil.
    let int8: Int8GEMM.Weights?
    /// The int8 weights for ``WeightLayout/vnniPanels``, else nil.
    let vnni: Int8VNNIGEMM.Weights?

    init(weight: [Float], bias: [Float], outFeatures: Int, inFeatures: Int, layout: WeightLayout) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
        self.weight = layout == .int8Panels || layout == .vnniPanels ? [] : weight
        self.packed = layout == .swiftPanels
            ? SwiftSGEMM.pack(weight: weight, outFeatures: outFeatures, inFeatures: inFeatures) : []
        self.int8 = layout == .int8Panels
            ? Int8GEMM.quantize(weight: weight, outFeatures: outFeatures, inFeatures: inFeatures) : nil
        self.vnni = layout == .vnniPanels
            ? weight.withUnsafeBufferPointer {
                Int8VNNIGEMM.quantize(weight: $0, outFeatures: outFeatures, inFeatures: inFeatures)
            } : nil
    }

    /// A layer with int8 weights (`layout` ``WeightLayout/int8Panels`` or ``WeightLayout/vnniPanels``)
    /// quantised straight from `weight` (the memory-mapped model file: the float weights are read once and never
    /// copied).
    init(quantizing weight: MappedFloats, bias: [Float], outFeatures: Int, inFeatures: Int, layout: WeightLayout) {
        precondition(layout == .int8Panels || layout == .vnniPanels, "init(quantizing:): \(layout) is not int8")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
        self.weight = []
        self.packed = []
        self.int8 = layout == .int8Panels ? weight.withUnsafeBufferPointer {
            Int8GEMM.quantize(weight: $0, outFeatures: outFeatures, inFeatures: inFeatures)
        } : nil
        self.vnni = layout == .vnniPanels ? weight.withUnsafeBufferPointer {
            Int8VNNIGEMM.quantize(weight: $0, outFeatures: outFeatures, inFeatures: inFeatures)
        } : nil
    }

    /// Int8 layers (either int8 layout) with the same input stacked along the output dimension (Q, K and V →
    /// one layer); every part but the last must have a multiple of 16 outputs (``Int8GEMM/stacked(_:)``).
    static func stackedInt8(_ layers: [DenseLayer]) -> DenseLayer {
        DenseLayer(inFeatures: layers[0].inFeatures, outFeatures: layers.reduce(0) { $0 + $1.outFeatures },
                   weight: [], bias: layers.flatMap(\.bias), packed: [],
                   int8: layers[0].int8 == nil ? nil : Int8GEMM.stacked(layers.map { $0.int8! }),
                   vnni: layers[0].vnni == nil ? nil
                       : Int8VNNIGEMM.stacked(layers.map { $0.vnni! }, outFeatures: layers.map(\.outFeatures)))
    }

    private init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float], packed: [Float],
                 int8: Int8GEMM.Weights?, vnni: Int8VNNIGEMM.Weights?) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
        self.packed = packed
        self.int8 = int8
        self.vnni = vnni
    }

    /// Concatenates layers with the same input along the output dimension (Q, K and V → one layer). The parts
    /// must keep their float weights (``WeightLayout/rowMajor``).
    static func fused(_ layers: [DenseLayer], layout: WeightLayout) -> DenseLayer {
        DenseLayer(
            weight: layers.flatMap(\.weight), bias: layers.flatMap(\.bias),
            outFeatures: layers.reduce(0) { $0 + $1.outFeatures }, inFeatures: layers[0].inFeatures,
            layout: layout)
    }
}

/// Runs dense layers on the chosen backend.
struct MatrixMultiplier: Sendable {
    /// The kernels a multiplier can run.
    enum Kernel: Sendable {
        case openBLAS(OpenBLAS)
        case swiftSIMD
        case int8
        case int8VNNI
    }

    let kernel: Kernel
    /// Threads the kernels and attention may use (OpenBLAS itself is kept single-threaded).
    let threads: Int

    init(kernel: Kernel, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.kernel = kernel
        self.threads = max(1, threads)
    }

    var blas: OpenBLAS? {
        if case .openBLAS(let blas) = kernel { return blas }
        return nil
    }

    /// How the weights must be laid out for this multiplier's kernel.
    var weightLayout: WeightLayout {
        switch kernel {
        case .openBLAS: return .rowMajor
        case .swiftSIMD: return .swiftPanels
        case .int8: return .int8Panels
        case .int8VNNI: return .vnniPanels
        }
    }

    var name: String {
        switch kernel {
        case .openBLAS(let blas): return "OpenBLAS (\(blas.library))"
        case .swiftSIMD: return "Swift SIMD kernel"
        case .int8: return "int8 weights (AVX2 kernel)"
        case .int8VNNI: return "int8 weights and activations (AVX-512 VNNI kernel)"
        }
    }

    /// The same kernel on one thread (for callers that run one pass per core themselves).
    func singleThreaded() -> MatrixMultiplier { MatrixMultiplier(kernel: kernel, threads: 1) }

    init(backend: MiniLMMatrixBackend, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let kernel: Kernel
        switch backend {
        case .swiftSIMD:
            kernel = .swiftSIMD
        case .float:
            kernel = OpenBLAS.load().map(Kernel.openBLAS) ?? .swiftSIMD
        case .automatic:
            kernel = Int8VNNIGEMM.isAvailable ? .int8VNNI
                : Int8GEMM.isAvailable ? .int8 : (OpenBLAS.load().map(Kernel.openBLAS) ?? .swiftSIMD)
        case .int8VNNI:
            guard Int8VNNIGEMM.isAvailable else {
                throw ModelClientError.notConfigured(
                    provider: "all-MiniLM-L6-v2",
                    remedy: "the int8VNNI backend was requested but this CPU lacks AVX-512 VNNI; set "
                        + "\(MiniLMMatrixBackend.setting)=int8 (or automatic)")
            }
            kernel = .int8VNNI
        case .int8:
            guard Int8GEMM.isAvailable else {
                throw ModelClientError.notConfigured(
                    provider: "all-MiniLM-L6-v2",
                    remedy: "the int8 backend was requested but this CPU lacks AVX2 or FMA; set "
                        + "\(MiniLMMatrixBackend.setting)=float (or automatic)")
            }
            kernel = .int8
        case .openBLAS:
            guard let loaded = OpenBLAS.load() else {
                throw ModelClientError.notConfigured(
                    provider: "all-MiniLM-L6-v2",
                    remedy: "the OpenBLAS backend was requested but libopenblas.so.0 could not be loaded; "
                        + "install it (apt-get install libopenblas0) or use the automatic/swiftSIMD backend")
            }
            kernel = .openBLAS(loaded)
        }
        self.init(kernel: kernel, threads: threads)
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
        if let vnni = layer.vnni {
            Int8VNNIGEMM.multiply(vnni, bias: layer.bias, input: input, rows: rows, inner: k, columns: n,
                                  output: output, threads: threads)
        } else if let int8 = layer.int8 {
            Int8GEMM.multiply(int8, bias: layer.bias, input: input, rows: rows, inner: k, columns: n, output: output,
                              threads: threads)
        } else if let blas {
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
