/// Eight floats from an address that need not be 32-byte aligned: the one vector load the encoder's Swift
/// kernels (attention, LayerNorm, the Swift SGEMM fallback) share.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// ``load8(_:)`` for a mutable buffer.
@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
