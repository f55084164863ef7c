import Foundation

/// Little-endian binary writer used by the log and snapshot codecs.
struct BinaryWriter {
    var buffer: [UInt8]

    init(capacity: Int = 256) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    var count: Int { buffer.count }

    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func bytes<C: Collection>(_ b: C) where C.Element == UInt8 { buffer.append(contentsOf: b) }

    /// Seconds since 2001-01-01T00:00:00Z as f64 (Foundation's reference date: round-trips `Date` exactly).
    mutating func date(_ d: Date) { f64(d.timeIntervalSinceReferenceDate) }
    mutating func uuid(_ id: UUID) { withUnsafeBytes(of: id.uuid) { buffer.append(contentsOf: $0) } }

    /// u32 byte length + UTF-8.
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { p in
            u32(UInt32(p.count))
            buffer.append(contentsOf: p)
        }
    }

    /// u32 byte length + bytes.
    mutating func blob(_ d: Data) {
        u32(UInt32(d.count))
        buffer.append(contentsOf: d)
    }

    /// u8 0 (absent) or 1 followed by the string.
    mutating func optionalString(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }

    /// float32 values, raw little-endian.
    mutating func floats(_ v: [Float]) {
        #if _endian(little)
        v.withUnsafeBytes { buffer.append(contentsOf: $0) }
        #else
        for x in v { f32(x) }
        #endif
    }
}

/// The input ended early or held a value outside its range.
struct BinaryDecodingError: Error, CustomStringConvertible {
    var offset: Int
    var detail: String
    var description: String { "\(detail) at byte \(offset)" }
}

/// Little-endian binary reader over a byte buffer; every read is bounds-checked and throws on short input.
struct BinaryReader {
    private let storage: [UInt8]?
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        storage = bytes
        offset = 0
        end = bytes.count
    }

    private init(storage: [UInt8]?, offset: Int, end: Int) {
        self.storage = storage
        self.offset = offset
        self.end = end
    }

    /// A reader over `bytes[range]`.
    init(_ bytes: [UInt8], range: Range<Int>) {
        self.init(storage: bytes, offset: range.lowerBound, end: range.upperBound)
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    /// The bytes already read in `range` (offsets as ``offset`` counts them).
    func bytesRead(_ range: Range<Int>) -> ArraySlice<UInt8> {
        precondition(range.upperBound <= offset, "only bytes already read")
        return storage?[range] ?? []
    }

    private func need(_ n: Int) throws {
        guard n >= 0, n <= end - offset else {
            throw BinaryDecodingError(offset: offset, detail: "truncated input (needed \(n) bytes, \(end - offset) left)")
        }
    }

    mutating func skip(_ n: Int) throws { try need(n); offset += n }

    mutating func u8() throws -> UInt8 { try need(1); defer { offset += 1 }; return storage![offset] }

    private mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let n = MemoryLayout<T>.size
        try need(n)
        var v: T = 0
        storage!.withUnsafeBytes { p in
            withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: p[offset..<offset + n])) }
        }
        offset += n
        return T(littleEndian: v)
    }

    mutating func u16() throws -> UInt16 { try fixed(UInt16.self) }
    mutating func u32() throws -> UInt32 { try fixed(UInt32.self) }
    mutating func u64() throws -> UInt64 { try fixed(UInt64.self) }
    mutating func f32() throws -> Float { Float(bitPattern: try u32()) }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func date() throws -> Date { Date(timeIntervalSinceReferenceDate: try f64()) }

    mutating func uuid() throws -> UUID {
        try need(16)
        let s = storage!
        let o = offset
        offset += 16
        return UUID(uuid: (s[o], s[o + 1], s[o + 2], s[o + 3], s[o + 4], s[o + 5], s[o + 6], s[o + 7],
                           s[o + 8], s[o + 9], s[o + 10], s[o + 11], s[o + 12], s[o + 13], s[o + 14], s[o + 15]))
    }

    mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        try need(n)
        defer { offset += n }
        return storage![offset..<offset + n]
    }

    mutating func string() throws -> String {
        let n = Int(try u32())
        let b = try bytes(n)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw BinaryDecodingError(offset: offset - n, detail: "invalid UTF-8 string")
        }
        return s
    }

    mutating func blob() throws -> Data {
        let n = Int(try u32())
        return Data(try bytes(n))
    }

    mutating func optionalString() throws -> String? {
        switch try u8() {
        case 0: return nil
        case 1: return try string()
        case let t: throw BinaryDecodingError(offset: offset - 1, detail: "bad presence flag \(t)")
        }
    }

    mutating func floats(_ count: Int) throws -> [Float] {
        try need(count * 4)
        var out = [Float](repeating: 0, count: count)
        let o = offset
        storage!.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: p[o..<o + count * 4])) }
        }
        #if !_endian(little)
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
        #endif
        offset += count * 4
        return out
    }
}

extension BinaryWriter {
    /// Unsigned LEB128: 7 bits per byte, low bits first, high bit set on every byte but the last.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    mutating func varint(_ v: Int) { varint(UInt64(v)) }

    /// varint byte length + UTF-8.
    mutating func vstring(_ s: String) {
        var s = s
        s.withUTF8 { p in
            varint(p.count)
            buffer.append(contentsOf: p)
        }
    }
}

extension BinaryReader {
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 64 else { throw BinaryDecodingError(offset: offset, detail: "varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func varintInt() throws -> Int {
        let v = try varint()
        guard v <= UInt64(Int32.max) else { throw BinaryDecodingError(offset: offset, detail: "length \(v) too large") }
        return Int(v)
    }

    mutating func vstring() throws -> String {
        let n = try varintInt()
        let b = try bytes(n)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw BinaryDecodingError(offset: offset - n, detail: "invalid UTF-8 string")
        }
        return s
    }
}
