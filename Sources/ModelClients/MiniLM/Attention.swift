import Foundation

/// Multi-head scaled dot-product self-attention over stacked sequences.
///
/// `qkv` holds one row per token: `[query (hidden) | key (hidden) | value (hidden)]`, heads side by side within
/// each part. Each sequence attends only to its own tokens (the equivalent of BERT's padding mask). The
/// `(sequence, head)` pairs are independent and are split across the cores.
enum Attention {
    static func run(qkv: UnsafeMutablePointer<Float>, spans: [(start: Int, length: Int)], heads: Int,
                    headSize: Int, output: UnsafeMutablePointer<Float>,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        let hidden = heads * headSize
        let jobs = spans.count * heads
        let work = spans.reduce(0) { $0 + $1.length * $1.length } * hidden
        let maxLength = spans.map(\.length).max() ?? 0
        let qkvBits = Int(bitPattern: qkv), outputBits = Int(bitPattern: output)
        let chunks = (threads > 1 && work > 100_000) ? min(jobs, threads * 4) : 1
        let body: @Sendable (Int) -> Void = { chunk in
            // Each chunk writes the context of its own (sequence, head) pairs only: disjoint output cells.
            let qkv = UnsafeMutablePointer<Float>(bitPattern: qkvBits)!
            let output = UnsafeMutablePointer<Float>(bitPattern: outputBits)!
            let padded = max(paddedLength(maxLength), 8)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: padded)
            let keys = UnsafeMutablePointer<Float>.allocate(capacity: padded * headSize)
            defer { scores.deallocate(); keys.deallocate() }
            for job in (jobs * chunk / chunks)..<(jobs * (chunk + 1) / chunks) {
                let span = spans[job / heads]
                head(qkv: qkv, start: span.start, length: span.length, head: job % heads, headSize: headSize,
                     hidden: hidden, scores: scores, keys: keys, output: output)
            }
        }
        if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }

    /// A sequence length rounded up to whole `SIMD8` blocks.
    private static func paddedLength(_ length: Int) -> Int { (length + 7) / 8 * 8 }

    /// One head of one sequence: `softmax(Q Kᵀ / √d) V`.
    ///
    /// The head's keys are first copied transposed into `keys` (`keys[d · padded + j]` = key `j`, dimension `d`;
    /// zero past the sequence), so eight scores are computed as eight lanes of one vector, with no horizontal sum
    /// per score; the weighted sum of values keeps its eight-lane accumulator in a register across the keys.
    private static func head(qkv: UnsafeMutablePointer<Float>, start: Int, length: Int, head: Int, headSize: Int,
                             hidden: Int, scores: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>,
                             output: UnsafeMutablePointer<Float>) {
        let stride = 3 * hidden
        let scale = 1 / Float(headSize).squareRoot()
        let base = qkv + start * stride + head * headSize
        let padded = paddedLength(length)
        for j in 0..<padded {
            let k = base + j * stride + hidden
            for d in 0..<headSize { keys[d * padded + j] = j < length ? k[d] : 0 }
        }
        for i in 0..<length {
            let q = base + i * stride
            var block = 0
            while block < padded {
                var acc = SIMD8<Float>()
                for d in 0..<headSize { acc += SIMD8(repeating: q[d]) * load8(keys + d * padded + block) }
                UnsafeMutableRawPointer(scores + block).storeBytes(of: acc * scale, as: SIMD8<Float>.self)
                block += 8
            }
            var maxScore = -Float.infinity
            for j in 0..<length { maxScore = max(maxScore, scores[j]) }
            var total: Float = 0
            for j in 0..<length {
                let e = Foundation.exp(scores[j] - maxScore)
                scores[j] = e
                total += e
            }
            let inverse = 1 / total
            let out = output + (start + i) * hidden + head * headSize
            var d = 0
            while d + 8 <= headSize {
                var acc = SIMD8<Float>()
                for j in 0..<length { acc += load8(base + j * stride + 2 * hidden + d) * scores[j] }
                UnsafeMutableRawPointer(out + d).storeBytes(of: acc * inverse, as: SIMD8<Float>.self)
                d += 8
            }
            while d < headSize {
                var sum: Float = 0
                for j in 0..<length { sum += base[j * stride + 2 * hidden + d] * scores[j] }
                out[d] = sum * inverse
                d += 1
            }
        }
    }
}

/// The exact GELU of BERT, `x · ½ · (1 + erf(x / √2))`, in place, eight values at a time.
///
/// `erf` is a rational approximation on [-4, 4] (the one Eigen and TensorFlow use for float; erf is ±1 in float
/// beyond that range), accurate to a few float ulps: calling the C library's `erff` per element would
/// take a large share of a forward pass.
enum GELU {
    static func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let g = 0.5 * v * (1 + erf(v * 0.70710678118654752))
            UnsafeMutableRawPointer(x + i).storeBytes(of: g, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + Foundation.erf(v * 0.70710678118654752))
            i += 1
        }
    }

    @inline(__always)
    static func erf(_ input: SIMD8<Float>) -> SIMD8<Float> {
        // Clamp to [-4, 4] with masks: `clamped(lowerBound:upperBound:)` compiled to calls of the generic
        // `pointwiseMin`/`pointwiseMax`, 2 % of a batch.
        var x = input
        x.replace(with: SIMD8(repeating: 4), where: x .> 4)
        x.replace(with: SIMD8(repeating: -4), where: x .< -4)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p - 2.10102402082508e-06
        p = x2 * p - 5.69250639462346e-05
        p = x2 * p - 7.34990630326855e-04
        p = x2 * p - 2.95459980854025e-03
        p = x2 * p - 1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 - 2.13374055278905e-04
        q = x2 * q - 1.68282697438203e-03
        q = x2 * q - 7.37332916720468e-03
        q = x2 * q - 1.42647390514189e-02
        return p / q
    }
}
