/// A memory's content hash (Mem0's `hash`, the MD5 hex of its text), kept as its 16 bytes when it is 32
/// lowercase hex digits and as the string otherwise.
///
/// Why: a 32-character `String` is a heap allocation of its own (~80 bytes with malloc's overhead) per memory,
/// both in memory and at every snapshot open; the bytes sit inline in ``StoredMemory``. The snapshot format
/// already stores such hashes as 16 raw bytes (docs/snapshot-format.md), so they are decoded without
/// formatting hex. ``string`` gives the text back exactly.
///
/// Canonical by construction (one value per text), so `==` compares the texts.
public struct ContentHash: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        /// 32 lowercase hex digits, as two big-endian halves (the first digit is the high nibble of `high`).
        case md5(high: UInt64, low: UInt64)
        /// Any other text (an uppercase or non-MD5 hash from an older writer or a test).
        case text(String)
    }

    private let storage: Storage

    private init(_ storage: Storage) { self.storage = storage }

    /// The hash whose text is `string`.
    public init(_ string: String) {
        var high: UInt64 = 0, low: UInt64 = 0, count = 0
        for c in string.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            default: self.init(.text(string)); return
            }
            guard count < 32 else { self.init(.text(string)); return }
            if count < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
            count += 1
        }
        self.init(count == 32 ? .md5(high: high, low: low) : .text(string))
    }

    /// An MD5 hash from its 16 bytes (the snapshot's raw form), first byte most significant.
    init<C: Collection>(md5Bytes bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 16, "an MD5 has 16 bytes")
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
        }
        self.init(.md5(high: high, low: low))
    }

    /// The 16 bytes of an MD5 hash (32 lowercase hex digits), first byte most significant; `nil` otherwise.
    var md5Bytes: [UInt8]? {
        guard case .md5(let high, let low) = storage else { return nil }
        return (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (UInt64(7 - i % 8) * 8)) }
    }

    /// The hash as text, exactly as it was given.
    public var string: String {
        switch storage {
        case .text(let s): return s
        case .md5(let high, let low):
            return String(unsafeUninitializedCapacity: 32) { buffer in
                for i in 0..<32 {
                    let nibble = UInt8(truncatingIfNeeded: (i < 16 ? high : low) >> (UInt64(15 - i % 16) * 4)) & 15
                    buffer[i] = nibble < 10 ? 48 + nibble : 87 + nibble
                }
                return 32
            }
        }
    }
}
