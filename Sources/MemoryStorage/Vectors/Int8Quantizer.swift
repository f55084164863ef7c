/// Per-vector symmetric int8 quantisation — the one implementation, used by the snapshot writer, the partition
/// state (vectors applied from the log), the search index and its queries.
///
/// `scale = max_j |x_j| / 127`, `code_j = clamp(round(x_j / scale), −127, 127)`, and `x_j ≈ Float(code_j) × scale`
/// (docs/snapshot-format.md §3). A vector that is all zero or holds a non-finite component has no usable
/// direction: its scale is 0 and its codes are 0 (the search index never ranks it).
public enum Int8Quantizer {
    /// The largest code magnitude.
    public static let maximumCode: Float = 127

    /// Quantises the `count` floats at `vector` into `codes` and returns the scale.
    @inlinable
    public static func quantize(_ vector: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<Int8>) -> Float {
        var maxAbs: Float = 0
        var finite = true
        for j in 0..<count {
            let x = vector[j]
            finite = finite && x.isFinite
            maxAbs = Swift.max(maxAbs, abs(x))
        }
        guard finite, maxAbs > 0 else {
            codes.update(repeating: 0, count: count)
            return 0
        }
        let scale = maxAbs / maximumCode
        let inverse = 1 / scale
        for j in 0..<count {
            codes[j] = Int8(Swift.max(-maximumCode, Swift.min(maximumCode, (vector[j] * inverse).rounded())))
        }
        return scale
    }

    /// The codes and scale of `vector`.
    public static func quantize(_ vector: [Float]) -> (codes: [Int8], scale: Float) {
        var scale: Float = 0
        let codes = [Int8](unsafeUninitializedCapacity: vector.count) { buffer, initialized in
            vector.withUnsafeBufferPointer { v in
                if let source = v.baseAddress, let target = buffer.baseAddress {
                    target.initialize(repeating: 0, count: v.count)
                    scale = quantize(source, count: v.count, into: target)
                }
            }
            initialized = vector.count
        }
        return (codes, scale)
    }

    /// The float vector `codes × scale` (what a quantised vector stands for).
    public static func dequantize(_ codes: UnsafePointer<Int8>, count: Int, scale: Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for j in 0..<count { buffer[j] = Float(codes[j]) * scale }
            initialized = count
        }
    }
}
