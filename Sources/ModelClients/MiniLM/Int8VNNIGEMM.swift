import Foundation
import MiniLMKernels

/// Dense layers with int8 weights and int8 activations: the weights are quantised as for ``Int8GEMM`` (one float
/// scale per output feature), each input row (token) is quantised to uint8 when the layer runs (its own scale
/// and zero point), and the C kernel (`Sources/MiniLMKernels/minilm_q8_vnni.c`) multiplies them with AVX-512
/// VNNI `vpdpbusd`, 64 multiply-adds per instruction, then corrects for the zero point with the weights'
/// column sums and rescales to float.
///
/// Why: with float activations the kernel widens every int8 weight to a float and does one FMA per 8
/// multiply-adds, so a batch is compute-bound at about the float model's speed; integer dot products do 4× the
/// work per instruction (docs/minilm.md). Parity: cosine ≥ 0.995 with the reference (`MiniLMParityTests`).
enum Int8VNNIGEMM {
    static let panelWidth = Int(AGENTMEMORY_Q8_PANEL_WIDTH)

    /// Whether this CPU can run the kernel (AVX-512 F, BW and VNNI, enabled by the OS).
    static let isAvailable: Bool = agentmemory_q8_vnni_available() != 0

    /// The inner dimension rounded up to whole groups of four (one `vpdpbusd` lane).
    static func paddedInner(_ k: Int) -> Int { (k + 3) / 4 * 4 }

    /// The quantised weights of one layer in the VNNI layout: `ceil(out / 16)` panels of `paddedInner(in) × 16`
    /// int8s (groups of four inner positions, 64 bytes a group, column `j`'s four weights at bytes `4j…4j+3`),
    /// `scale` and `columnSums` one per feature, padded with zeros to whole panels.
    struct Weights: Sendable {
        let packed: [Int8]
        let scale: [Float]
        let columnSums: [Int32]
    }

    /// Quantises and packs `weight[out × in]` (PyTorch layout, anywhere in memory: the loader passes the mapped
    /// model file), output features split over the cores.
    static func quantize(weight w: UnsafeBufferPointer<Float>, outFeatures n: Int, inFeatures k: Int,
                         threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Weights {
        precondition(w.count == n * k, "quantize: \(w.count) weights for \(n) × \(k)")
        let panels = (n + panelWidth - 1) / panelWidth
        var packed = [Int8](repeating: 0, count: panels * paddedInner(k) * panelWidth)
        var scale = [Float](repeating: 0, count: panels * panelWidth)
        var sums = [Int32](repeating: 0, count: panels * panelWidth)
        packed.withUnsafeMutableBufferPointer { out in
            scale.withUnsafeMutableBufferPointer { scales in
                sums.withUnsafeMutableBufferPointer { sums in
                    // Pointers cross into the concurrent closure as integers: each part writes only the panels,
                    // scales and sums of its own output features.
                    let weightBits = Int(bitPattern: w.baseAddress), outBits = Int(bitPattern: out.baseAddress)
                    let scaleBits = Int(bitPattern: scales.baseAddress), sumBits = Int(bitPattern: sums.baseAddress)
                    let parts = max(1, min(threads, panels))
                    let quantizePart: @Sendable (Int) -> Void = { p in
                        agentmemory_q8_quantize_vnni(UnsafePointer<Float>(bitPattern: weightBits), n, k,
                                                     UnsafeMutablePointer<Int8>(bitPattern: outBits),
                                                     UnsafeMutablePointer<Float>(bitPattern: scaleBits),
                                                     UnsafeMutablePointer<Int32>(bitPattern: sumBits),
                                                     panels * p / parts, panels * (p + 1) / parts)
                    }
                    if parts == 1 { quantizePart(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: quantizePart) }
                }
            }
        }
        return Weights(packed: packed, scale: scale, columnSums: sums)
    }

    /// Layers with the same input stacked along the output dimension (Q, K and V → one layer). Every part but
    /// the last must fill whole panels (`out` a multiple of 16).
    static func stacked(_ parts: [Weights], outFeatures: [Int]) -> Weights {
        precondition(outFeatures.dropLast().allSatisfy { $0 % panelWidth == 0 }, "stacked: a part ends mid-panel")
        return Weights(packed: parts.flatMap(\.packed), scale: parts.flatMap(\.scale),
                       columnSums: parts.flatMap(\.columnSums))
    }

    /// `output[rows × n] = input[rows × k] · Wᵀ + bias`: the rows are quantised once, then a large product is
    /// split by column panels over `threads` cores (each part writes disjoint columns of `output`).
    static func multiply(_ weights: Weights, bias: [Float], input: UnsafePointer<Float>, rows: Int, inner k: Int,
                         columns n: Int, output: UnsafeMutablePointer<Float>, threads: Int) {
        let panels = (n + panelWidth - 1) / panelWidth
        let parts = threads > 1 && rows * n * k >= parallelWork ? min(threads, panels) : 1
        let quantized = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * paddedInner(k))
        let rowScale = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        let rowZero = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
        defer { quantized.deallocate(); rowScale.deallocate(); rowZero.deallocate() }
        agentmemory_u8_quantize_rows(input, rows, k, quantized, rowScale, rowZero)
        weights.packed.withUnsafeBufferPointer { packed in
            weights.scale.withUnsafeBufferPointer { scale in
                weights.columnSums.withUnsafeBufferPointer { sums in
                    bias.withUnsafeBufferPointer { bias in
                        // Pointers cross into the concurrent closure as integers: inputs are only read and
                        // every part writes its own columns.
                        let packedBits = Int(bitPattern: packed.baseAddress), scaleBits = Int(bitPattern: scale.baseAddress)
                        let sumBits = Int(bitPattern: sums.baseAddress), biasBits = Int(bitPattern: bias.baseAddress)
                        let quantizedBits = Int(bitPattern: quantized), rowScaleBits = Int(bitPattern: rowScale)
                        let rowZeroBits = Int(bitPattern: rowZero), outputBits = Int(bitPattern: output)
                        let multiplyPart: @Sendable (Int) -> Void = { p in
                            agentmemory_q8_vnni_gemm(UnsafePointer<UInt8>(bitPattern: quantizedBits),
                                                     UnsafePointer<Float>(bitPattern: rowScaleBits),
                                                     UnsafePointer<Int32>(bitPattern: rowZeroBits), rows, k,
                                                     UnsafePointer<Int8>(bitPattern: packedBits),
                                                     UnsafePointer<Float>(bitPattern: scaleBits),
                                                     UnsafePointer<Int32>(bitPattern: sumBits),
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

    /// Multiply-adds below which a product stays on one core (waking another costs more than it saves).
    static let parallelWork = MatrixMultiplier.parallelBLASWork
}
