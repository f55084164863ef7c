import Foundation

/// A portable single-precision matrix multiply for dense layers, `C = A · Bᵀ + bias`, in pure Swift: `B` (the
/// PyTorch `[out, in]` weight) is packed once into panels of 8 output columns so the inner loop reads it
/// contiguously, and a 6 × 8 register tile of `SIMD8<Float>` accumulators is updated per step of the inner
/// dimension (12 + 3 vector registers with SSE, fits the 16 of baseline x86-64). Column panels are split
/// across the cores.
///
/// Used when OpenBLAS is not installed (e.g. on Azure Functions hosts).
enum SwiftSGEMM {
    static let panelWidth = 8
    static let tileRows = 6

    /// Packs `weight[out × in]` into `ceil(out / 8)` panels, each `in × 8` (column `j` of a panel row is
    /// output feature `panel * 8 + j`, zero past `out`).
    static func pack(weight: [Float], outFeatures n: Int, inFeatures k: Int) -> [Float] {
        let panels = (n + panelWidth - 1) / panelWidth
        var packed = [Float](repeating: 0, count: panels * k * panelWidth)
        for p in 0..<panels {
            for j in 0..<panelWidth where p * panelWidth + j < n {
                let row = (p * panelWidth + j) * k
                for i in 0..<k { packed[(p * k + i) * panelWidth + j] = weight[row + i] }
            }
        }
        return packed
    }

    /// `c[rows × columns] = a[rows × inner] · Bᵀ + bias`, with `packedB` from ``pack(weight:outFeatures:inFeatures:)``.
    static func multiply(a: UnsafePointer<Float>, rows m: Int, inner k: Int, packedB: UnsafePointer<Float>,
                         columns n: Int, bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                         threads maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        let panels = (n + panelWidth - 1) / panelWidth
        let threads = min(maxThreads, panels)
        // Small products are not worth a thread hand-off.
        if threads <= 1 || m * n * k < 200_000 {
            multiplyPanels(0..<panels, a: a, rows: m, inner: k, packedB: packedB, columns: n, bias: bias, c: c)
            return
        }
        // Pass the pointers as integers: the closure runs on several threads but every thread writes a
        // disjoint set of output columns, and the inputs are only read.
        let aBits = Int(bitPattern: a), bBits = Int(bitPattern: packedB)
        let biasBits = Int(bitPattern: bias), cBits = Int(bitPattern: c)
        let chunks = threads * 2
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (panels * chunk / chunks)..<(panels * (chunk + 1) / chunks)
            multiplyPanels(range,
                           a: UnsafePointer(bitPattern: aBits)!, rows: m, inner: k,
                           packedB: UnsafePointer(bitPattern: bBits)!, columns: n,
                           bias: UnsafePointer(bitPattern: biasBits)!,
                           c: UnsafeMutablePointer(bitPattern: cBits)!)
        }
    }

    private static func multiplyPanels(_ panels: Range<Int>, a: UnsafePointer<Float>, rows m: Int, inner k: Int,
                                       packedB: UnsafePointer<Float>, columns n: Int,
                                       bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        // Row blocks keep a slice of A warm in cache while all panels of this thread sweep over it.
        let rowBlock = max(tileRows, (96 / tileRows) * tileRows)
        var blockStart = 0
        while blockStart < m {
            let blockEnd = min(m, blockStart + rowBlock)
            for p in panels {
                let b = packedB + p * k * panelWidth
                let column = p * panelWidth
                let width = min(panelWidth, n - column)
                var r = blockStart
                while r + tileRows <= blockEnd {
                    tile6(a: a + r * k, inner: k, b: b, bias: bias + column, c: c + r * n + column,
                          ldc: n, width: width)
                    r += tileRows
                }
                while r < blockEnd {
                    tile1(a: a + r * k, inner: k, b: b, bias: bias + column, c: c + r * n + column, width: width)
                    r += 1
                }
            }
            blockStart = blockEnd
        }
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, plus bias: UnsafePointer<Float>, to c: UnsafeMutablePointer<Float>,
                              width: Int) {
        if width == panelWidth {
            UnsafeMutableRawPointer(c).storeBytes(of: v + load8(bias), as: SIMD8<Float>.self)
        } else {
            for j in 0..<width { c[j] = v[j] + bias[j] }
        }
    }

    /// Six rows of A times one panel.
    @inline(__always)
    private static func tile6(a: UnsafePointer<Float>, inner k: Int, b: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, width: Int) {
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
        let a0 = a, a1 = a + k, a2 = a + 2 * k, a3 = a + 3 * k, a4 = a + 4 * k, a5 = a + 5 * k
        var bp = b
        for i in 0..<k {
            let bv = load8(bp)
            c0 += bv * a0[i]
            c1 += bv * a1[i]
            c2 += bv * a2[i]
            c3 += bv * a3[i]
            c4 += bv * a4[i]
            c5 += bv * a5[i]
            bp += panelWidth
        }
        store(c0, plus: bias, to: c, width: width)
        store(c1, plus: bias, to: c + ldc, width: width)
        store(c2, plus: bias, to: c + 2 * ldc, width: width)
        store(c3, plus: bias, to: c + 3 * ldc, width: width)
        store(c4, plus: bias, to: c + 4 * ldc, width: width)
        store(c5, plus: bias, to: c + 5 * ldc, width: width)
    }

    /// One row of A times one panel.
    @inline(__always)
    private static func tile1(a: UnsafePointer<Float>, inner k: Int, b: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, width: Int) {
        var acc = SIMD8<Float>()
        var bp = b
        for i in 0..<k {
            acc += load8(bp) * a[i]
            bp += panelWidth
        }
        store(acc, plus: bias, to: c, width: width)
    }
}
