import Foundation

/// The versioned header at the start of every file of a ``FileBlobStore``: what the blob is (block or append),
/// its ETag, its committed length and whether it is sealed.
///
/// Two 64-byte slots (at offsets 0 and 64), each with a sequence number and a CRC32C. A writer always overwrites
/// the slot holding the *older* sequence, so a torn header write (a crash mid-write) leaves the newer slot intact
/// and readers fall back to it. The blob's bytes start at offset 128.
///
/// Slot layout (little-endian): magic `AMBL` (4) · version u8 = 1 · kind u8 (0 block, 1 append) · sealed u8 ·
/// reserved u8 · sequence u64 · committed length u64 · instance u64 (random per created blob) ·
/// lastModified (ms since 1970) i64 · reserved (20) · CRC32C of bytes 0..<60 u32 at 60.
struct BlobFileHeader: Equatable {
    static let slotSize = 64
    static let dataOffset = 128
    static let magic: [UInt8] = Array("AMBL".utf8)

    var kind: BlobKind
    var sealed: Bool
    var sequence: UInt64
    var committedLength: Int
    var instance: UInt64
    var lastModifiedMillis: Int64

    /// The ETag: changes on every write (sequence) and between blobs created under the same name (instance).
    var etag: ETag {
        ETag("0x" + String(instance, radix: 16, uppercase: true) + "-" + String(sequence, radix: 16, uppercase: true))
    }

    var lastModified: Date { Date(timeIntervalSince1970: Double(lastModifiedMillis) / 1000) }

    /// Which slot this header goes to: alternates with the sequence.
    var slotOffset: Int { Int(sequence % 2) * BlobFileHeader.slotSize }

    static func fresh(kind: BlobKind, length: Int) -> BlobFileHeader {
        BlobFileHeader(kind: kind, sealed: false, sequence: 1, committedLength: length,
                       instance: UInt64.random(in: 1...UInt64.max), lastModifiedMillis: nowMillis())
    }

    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// The next version of this header (sequence + 1, new modification time).
    func next() -> BlobFileHeader {
        var h = self
        h.sequence += 1
        h.lastModifiedMillis = BlobFileHeader.nowMillis()
        return h
    }

    func encodeSlot() -> [UInt8] {
        var w = BinaryWriter(capacity: BlobFileHeader.slotSize)
        w.bytes(BlobFileHeader.magic)
        w.u8(1)
        w.u8(kind == .block ? 0 : 1)
        w.u8(sealed ? 1 : 0)
        w.u8(0)
        w.u64(sequence)
        w.u64(UInt64(committedLength))
        w.u64(instance)
        w.u64(UInt64(bitPattern: lastModifiedMillis))
        w.bytes([UInt8](repeating: 0, count: 20))
        w.u32(CRC32C.checksum(w.buffer))
        return w.buffer
    }

    static func decodeSlot(_ bytes: ArraySlice<UInt8>) -> BlobFileHeader? {
        guard bytes.count == slotSize else { return nil }
        let b = Array(bytes)
        guard Array(b[0..<4]) == magic, b[4] == 1 else { return nil }
        var r = BinaryReader(b)
        guard (try? r.skip(60)) != nil, let crc = try? r.u32(), crc == CRC32C.checksum(b[0..<60]) else { return nil }
        var f = BinaryReader(b)
        do {
            try f.skip(5)
            let kind: BlobKind = try f.u8() == 0 ? .block : .append
            let sealed = try f.u8() != 0
            try f.skip(1)
            let seq = try f.u64()
            let len = try f.u64()
            let inst = try f.u64()
            let lm = try f.u64()
            guard len < UInt64(Int.max) else { return nil }
            return BlobFileHeader(kind: kind, sealed: sealed, sequence: seq, committedLength: Int(len),
                                  instance: inst, lastModifiedMillis: Int64(bitPattern: lm))
        } catch { return nil }
    }

    /// The valid slot with the highest sequence, from the first 128 bytes of a file.
    static func decode(_ bytes: [UInt8]) -> BlobFileHeader? {
        guard bytes.count >= dataOffset else { return nil }
        let a = decodeSlot(bytes[0..<slotSize])
        let b = decodeSlot(bytes[slotSize..<dataOffset])
        switch (a, b) {
        case let (a?, b?): return a.sequence >= b.sequence ? a : b
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }
}
