import Foundation
import MiniLMKernels
import Testing
@testable import ModelClients

/// The int8-activation kernel (``Int8VNNIGEMM``, AVX-512 VNNI): its weights are exactly ``Int8GEMM``'s in
/// another layout, each quantised activation is within half a step of its float, and the product equals the
/// naive product of the dequantised operands. Runs only where the CPU has AVX-512 VNNI (elsewhere the backend
/// refuses to load and `automatic` falls back to ``Int8GEMM``).
@Suite("MiniLM VNNI kernel", .enabled(if: Int8VNNIGEMM.isAvailable, "this CPU lacks AVX-512 VNNI"))
struct MiniLMVNNIKernelTests {
    /// A deterministic pseudo-random matrix in [-1, 1) (the component tests' generator).
    private func matrix(_ count: Int, seed: UInt64, offset: Float = 0) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1 + offset
        }
    }

    @Test("the VNNI weights are the int8 kernel's weights in groups of four, with their column sums",
          arguments: [(16, 8), (13, 7), (1152, 384), (389, 1536), (40, 129)])
    func sameWeightsAsTheInt8Kernel(shape: (columns: Int, inner: Int)) {
        let (n, k) = shape
        let w = matrix(n * k, seed: 11)
        let int8 = Int8GEMM.quantize(weight: w, outFeatures: n, inFeatures: k)
        let vnni = w.withUnsafeBufferPointer { Int8VNNIGEMM.quantize(weight: $0, outFeatures: n, inFeatures: k, threads: 3) }
        let width = Int8GEMM.panelWidth, padded = Int8VNNIGEMM.paddedInner(k)
        #expect(Array(vnni.scale.prefix(n)) == int8.scale)
        var sameCodes = true, sameSums = true
        for j in 0..<n {
            var sum: Int32 = 0
            for i in 0..<k {
                let q = int8.packed[(j / width * k + i) * width + j % width]
                let v = vnni.packed[j / width * padded * width + i / 4 * 64 + j % width * 4 + i % 4]
                sameCodes = sameCodes && q == v
                sum += Int32(v)
            }
            sameSums = sameSums && sum == vnni.columnSums[j]
        }
        #expect(sameCodes)
        #expect(sameSums)
    }

    @Test("each activation is quantised to within half a step, zero rows and one-signed rows included")
    func rowQuantisation() {
        let (m, k) = (5, 389)
        var a = matrix(m * k, seed: 3)
        for i in 0..<k { a[k + i] = 0 }                                     // all zero
        for i in 0..<k { a[2 * k + i] = abs(a[2 * k + i]) + 0.5 }           // all positive
        for i in 0..<k { a[3 * k + i] = -abs(a[3 * k + i]) * 3 }            // all negative
        let padded = Int8VNNIGEMM.paddedInner(k)
        var codes = [UInt8](repeating: 9, count: m * padded)
        var scale = [Float](repeating: 0, count: m), zero = [Int32](repeating: 0, count: m)
        agentmemory_u8_quantize_rows(a, m, k, &codes, &scale, &zero)
        for r in 0..<m {
            var worst: Float = 0
            for i in 0..<k {
                let x = scale[r] * Float(Int32(codes[r * padded + i]) - zero[r])
                worst = max(worst, abs(x - a[r * k + i]) / scale[r])
            }
            #expect(worst <= 0.5001, "row \(r): an activation is \(worst) steps from its float value")
            #expect((k..<padded).allSatisfy { codes[r * padded + $0] == 0 }, "row \(r): padding not zero")
        }
        #expect(codes[k..<2 * k].allSatisfy { Int32($0) == zero[1] }, "the zero row dequantises to zeros")
    }

    @Test("the VNNI kernel equals a naive product of the dequantised operands and stays near the float one",
          arguments: [(1, 16, 3), (5, 13, 7), (17, 1152, 384), (13, 384 + 5, 1536), (50, 40, 129), (7, 100, 64)])
    func kernel(shape: (rows: Int, columns: Int, inner: Int)) throws {
        let (m, n, k) = shape
        // GELU-like inputs: mostly positive with a small negative tail, so the zero point is not 128.
        let a = matrix(m * k, seed: 7, offset: 0.8).map { max($0, -0.17) }
        let w = matrix(n * k, seed: 8), bias = matrix(n, seed: 9)
        let layer = DenseLayer(weight: w, bias: bias, outFeatures: n, inFeatures: k, layout: .vnniPanels)
        let quantized = try #require(layer.vnni)
        #expect(layer.weight.isEmpty && layer.int8 == nil, "only the VNNI weights are kept")
        let width = Int8GEMM.panelWidth, padded = Int8VNNIGEMM.paddedInner(k)
        var dequantizedW = [Float](repeating: 0, count: n * k)
        for j in 0..<n {
            for i in 0..<k {
                let q = quantized.packed[j / width * padded * width + i / 4 * 64 + j % width * 4 + i % 4]
                dequantizedW[j * k + i] = Float(q) * quantized.scale[j]
            }
        }
        var codes = [UInt8](repeating: 0, count: m * padded)
        var rowScale = [Float](repeating: 0, count: m), rowZero = [Int32](repeating: 0, count: m)
        agentmemory_u8_quantize_rows(a, m, k, &codes, &rowScale, &rowZero)
        for threads in [1, 2] {
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer {
                    MatrixMultiplier(kernel: .int8VNNI, threads: threads).apply(layer, input: a.baseAddress!, rows: m,
                                                                                output: $0.baseAddress!)
                }
            }
            var worstExact: Float = 0, worstFloat: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    var exact = bias[j], float = bias[j]
                    for x in 0..<k {
                        let activation = rowScale[i] * Float(Int32(codes[i * padded + x]) - rowZero[i])
                        exact += activation * dequantizedW[j * k + x]
                        float += a[i * k + x] * w[j * k + x]
                    }
                    worstExact = max(worstExact, abs(c[i * n + j] - exact))
                    worstFloat = max(worstFloat, abs(c[i * n + j] - float))
                }
            }
            #expect(worstExact < 1e-3 * Float(k).squareRoot(), "largest difference \(worstExact) (\(threads) threads)")
            // Two roundings of ±½ step each (weights: 1/254 of the largest, activations: 1/510 of the row's range).
            #expect(worstFloat < 0.03 * Float(k).squareRoot(), "largest difference \(worstFloat) from float")
        }
    }

    @Test("MEMORY_MINILM_BACKEND=int8VNNI and automatic pick the VNNI kernel on this CPU")
    func backendSetting() throws {
        #expect(try MiniLMEmbedder.backend(environment: ["MEMORY_MINILM_BACKEND": "int8VNNI"]) == .int8VNNI)
        #expect(try MatrixMultiplier(backend: .automatic).weightLayout == .vnniPanels)
        #expect(try MatrixMultiplier(backend: .int8VNNI).weightLayout == .vnniPanels)
        #expect(try MatrixMultiplier(backend: .int8).weightLayout == .int8Panels)
    }
}
