import Foundation
import MiniLMKernels

/// Dense layers with int8 weights: each weight is rounded to an int8 with one float scale per output feature
/// (`scale = max|w| / 127` over that feature's row), activations stay float, and the C kernel
/// (`Sources/MiniLMKernels`) widens the int8s to floats inside its FMA loop.
///
/// Why: one query (~17 tokens) streams all ~10.6 M encoder weights once; as int8 they are a quarter of the float
/// bytes (10.6 MB, inside the last-level cache) and the kernel runs the dense layers in less than half the CPU
/// time of single-threaded OpenBLAS (docs/minilm.md). Parity with the float model: cosine ≥ 0.995 on the
/// reference cases (`MiniLMParityTests`).
enum Int8GEMM {
    static let panelWidth = Int(AGENTMEMORY_Q8_PANEL_WIDTH)

    /// Whether this CPU can run the kernel (AVX2 and FMA).
    static let isAvailable: Bool = agentmemory_q8_kernel_available() != 0

    /// The quantised weights of one layer: `packed` is `ceil(out / 16)` panels of `in × 16` int8s (column `j`
    /// of a panel row is output feature `panel · 16 + j`, zero past `out`), `scale` one float per feature.
    struct Weights: Sendable {
        let packed: [Int8]
        let scale: [Float]
    }

    /// Quantises and packs `weight[out × in]` (PyTorch layout), output features split over the cores. It is most
    /// of the model's load time, so it runs in C (`agentmemory_q8_quantize`, AVX2) when the int8 kernel is
    /// available; `portable: true` forces the Swift loop, the reference the C code matches bit for bit.
    static func quantize(weight: [Float], outFeatures n: Int, inFeatures k: Int,
                         threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                         portable: Bool = false) -> Weights {
        weight.withUnsafeBufferPointer {
            quantize(weight: $0, outFeatures: n, inFeatures: k, threads: threads, portable: portable)
        }
    }

    /// ``quantize(weight:outFeatures:inFeatures:threads:portable:)`` of weights anywhere in memory (the model
    /// loader passes them straight from the memory-mapped file, so the float weights are never copied).
    static func quantize(weight w: UnsafeBufferPointer<Float>, outFeatures n: Int, inFeatures k: Int,
                         threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                         portable: Bool = false) -> Weights {
        precondition(w.count == n * k, "quantize: \(w.count) weights for \(n) × \(k)")
        let panels = (n + panelWidth - 1) / panelWidth
        var packed = [Int8](repeating: 0, count: panels * k * panelWidth)
        var scale = [Float](repeating: 0, count: n)
        let native = isAvailable && !portable
        do {
            packed.withUnsafeMutableBufferPointer { out in
                scale.withUnsafeMutableBufferPointer { scales in
                    // Pointers cross into the concurrent closure as integers: each part writes only the panels
                    // and scales of its own output features.
                    let weightBits = Int(bitPattern: w.baseAddress), outBits = Int(bitPattern: out.baseAddress)
                    let scaleBits = Int(bitPattern: scales.baseAddress)
                    let parts = max(1, min(threads, panels))
                    let quantizePart: @Sendable (Int) -> Void = { p in
                        let w = UnsafePointer<Float>(bitPattern: weightBits)!
                        let out = UnsafeMutablePointer<Int8>(bitPattern: outBits)!
                        let scales = UnsafeMutablePointer<Float>(bitPattern: scaleBits)!
                        let panelRange = (panels * p / parts)..<(panels * (p + 1) / parts)
                        if native {
                            agentmemory_q8_quantize(w, n, k, out, scales, panelRange.lowerBound, panelRange.upperBound)
                            return
                        }
                        let features = (panelRange.lowerBound * panelWidth)..<min(n, panelRange.upperBound * panelWidth)
                        for j in features {
                            let row = w + j * k
                            var largest: Float = 0
                            for i in 0..<k { largest = max(largest, abs(row[i])) }
                            let s = largest > 0 ? largest / 127 : 1
                            scales[j] = s
                            let inverse = 1 / s
                            let base = out + (j / panelWidth) * k * panelWidth + j % panelWidth
                            // Ties to even: one `vroundps`, where `.rounded()` (ties away) is a libm call per
                            // weight, which made loading 2-3x slower.
                            for i in 0..<k {
                                let q = max(-127, min(127, (row[i] * inverse).rounded(.toNearestOrEven)))
                                base[i * panelWidth] = Int8(truncatingIfNeeded: Int32(q))
                            }
                        }
                    }
                    if parts == 1 { quantizePart(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: quantizePart) }
                }
            }
        }
        return Weights(packed: packed, scale: scale)
    }

    /// Layers with the same input stacked along the output dimension (Q, K and V → one layer): their panels and
    /// scales one after the other. Every part but the last must fill whole panels (`out` a multiple of 16).
    static func stacked(_ parts: [Weights]) -> Weights {
        precondition(parts.dropLast().allSatisfy { $0.scale.count % panelWidth == 0 }, "stacked: a part ends mid-panel")
        return Weights(packed: parts.flatMap(\.packed), scale: parts.flatMap(\.scale))
    }

    /// `output[rows × n] = input[rows × k] · Wᵀ + bias`; a large product is split by column panels over
    /// `threads` cores (each part writes disjoint columns of `output`).
    static func multiply(_ weights: Weights, bias: [Float], input: UnsafePointer<Float>, rows: Int, inner k: Int,
                         columns n: Int, output: UnsafeMutablePointer<Float>, threads: Int) {
        let panels = (n + panelWidth - 1) / panelWidth
        let parts = threads > 1 && rows * n * k >= MatrixMultiplier.parallelBLASWork ? min(threads, panels) : 1
        weights.packed.withUnsafeBufferPointer { packed in
            weights.scale.withUnsafeBufferPointer { scale in
                bias.withUnsafeBufferPointer { bias in
                    // Pointers cross into the concurrent closure as integers: inputs are only read and every
                    // part writes its own columns.
                    let packedBits = Int(bitPattern: packed.baseAddress), scaleBits = Int(bitPattern: scale.baseAddress)
                    let biasBits = Int(bitPattern: bias.baseAddress), inputBits = Int(bitPattern: input)
                    let outputBits = Int(bitPattern: output)
                    let multiplyPart: @Sendable (Int) -> Void = { p in
                        agentmemory_q8_gemm(UnsafePointer<Float>(bitPattern: inputBits), rows, k,
                                            UnsafePointer<Int8>(bitPattern: packedBits),
                                            UnsafePointer<Float>(bitPattern: scaleBits),
                                            UnsafePointer<Float>(bitPattern: biasBits), n,
                                            UnsafeMutablePointer<Float>(bitPattern: outputBits), n,
                                            panels * p / parts, panels * (p + 1) / parts)
                    }
                    if parts == 1 { multiplyPart(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: multiplyPart) }
                }
            }
        }
    }
}
