import CRC32CHardware

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of log records, snapshot sections and
/// blob-file headers; `checksum("123456789") == 0xE3069283`. Uses the SSE4.2 `crc32` instruction where the CPU
/// has it (`CRC32CHardware`), else slicing-by-8 tables.
public enum CRC32C {
    /// True when updates run on the `crc32` instruction.
    public static let usesHardware = agentmemory_crc32c_hardware_available() == 1

    private static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
        }
        return t
    }()
    private static let flat: [UInt32] = tables.flatMap { $0 }

    /// Continues a CRC over more bytes: `update(update(0, a), b) == checksum(a + b)`.
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard usesHardware else { return tableUpdate(crc, buffer) }
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        return ~agentmemory_crc32c_hardware_update(~crc, base, buffer.count)
    }

    /// ``update(_:_:)`` with the slicing-by-8 tables (the fallback; public for the equivalence test).
    public static func tableUpdate(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        flat.withUnsafeBufferPointer { t in
            guard var ptr = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            var n = buffer.count
            while n >= 8 {
                let lo = UInt32(ptr[0]) | UInt32(ptr[1]) << 8 | UInt32(ptr[2]) << 16 | UInt32(ptr[3]) << 24
                let hi = UInt32(ptr[4]) | UInt32(ptr[5]) << 8 | UInt32(ptr[6]) << 16 | UInt32(ptr[7]) << 24
                let x = c ^ lo
                c = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[0 * 256 + Int(hi >> 24)]
                ptr += 8
                n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(ptr[0])) & 0xFF)] ^ (c >> 8)
                ptr += 1
                n -= 1
            }
        }
        return ~c
    }

    /// The CRC-32C of a byte sequence.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(0, UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes { update(0, $0) }
    }
}
