import Foundation

/// The framed record format of partition log segments (docs/log-format.md).
///
/// A record is `magic u32 · length u32 · crc32c u32 · payload[length]`, little-endian, where the CRC covers the
/// four length bytes and the payload. The payload is one ``LogBatch``. A reader stops at the first frame that is
/// short, has a bad magic, an implausible length or a bad CRC: that is a torn or corrupt tail, never a record.
/// A frame that is whole and whose CRC matches but whose payload does not decode is *not* a tail: it was
/// written completely, so it is reported as an ``UnreadableRecord`` and the records after it are read.
/// The writer never appends such a record (``encodeVerified(_:)``); one can only come from an older writer or
/// from a bug, and must never cost the acknowledged records that follow it.
public enum LogCodec {
    /// `"AMLR"` read as a little-endian u32.
    public static let magic: UInt32 = 0x524C_4D41
    public static let frameHeaderSize = 12
    /// Largest payload a reader accepts (a guard against reading a corrupt length as a huge allocation).
    public static let maxPayload = 256 << 20
    public static let payloadVersion: UInt8 = 1

    /// One framed record holding `batch`.
    public static func encode(_ batch: LogBatch) -> Data {
        var p = BinaryWriter(capacity: 1024)
        p.u8(payloadVersion)
        p.uuid(batch.eventId)
        p.date(batch.writtenAt)
        p.optionalString(batch.idempotencyKey)
        if let r = batch.idempotentResponse { p.u8(1); p.blob(r) } else { p.u8(0) }
        p.u32(UInt32(batch.operations.count))
        for op in batch.operations {
            switch op {
            case .add(let m): p.u8(1); p.memory(m)
            case .update(let m): p.u8(2); p.memory(m)
            case .delete(let id, let at): p.u8(3); p.uuid(id); p.date(at)
            case .purge(let id, let at): p.u8(4); p.uuid(id); p.date(at)
            }
        }
        var f = BinaryWriter(capacity: p.count + frameHeaderSize)
        f.u32(magic)
        f.u32(UInt32(p.count))
        var lengthBytes = BinaryWriter(capacity: 4)
        lengthBytes.u32(UInt32(p.count))
        let crc = lengthBytes.buffer.withUnsafeBytes { l in
            p.buffer.withUnsafeBytes { CRC32C.update(CRC32C.update(0, l), $0) }
        }
        f.u32(crc)
        f.bytes(p.buffer)
        return Data(f.buffer)
    }

    /// ``encode(_:)``, checked by decoding the result: the writer appends only what every reader can read back.
    /// Throws ``BinaryDecodingError`` (naming what the decoder refused) for a batch outside ``RecordLimits``.
    public static func encodeVerified(_ batch: LogBatch) throws -> Data {
        let frame = encode(batch)
        let bytes = [UInt8](frame)
        _ = try decodePayload(bytes, range: frameHeaderSize..<bytes.count)
        return frame
    }

    /// Decodes one payload.
    static func decodePayload(_ bytes: [UInt8], range: Range<Int>) throws -> LogBatch {
        var r = BinaryReader(bytes, range: range)
        let version = try r.u8()
        guard version == payloadVersion else {
            throw BinaryDecodingError(offset: range.lowerBound, detail: "unknown log payload version \(version)")
        }
        let eventId = try r.uuid()
        let writtenAt = try r.date()
        let key = try r.optionalString()
        let response: Data? = try r.u8() != 0 ? try r.blob() : nil
        let n = Int(try r.u32())
        guard n <= r.remaining else { throw BinaryDecodingError(offset: r.offset, detail: "operation count too large") }
        var ops: [LogOperation] = []
        ops.reserveCapacity(n)
        for _ in 0..<n {
            switch try r.u8() {
            case 1: ops.append(.add(try r.memory()))
            case 2: ops.append(.update(try r.memory()))
            case 3: ops.append(.delete(id: try r.uuid(), at: try r.date()))
            case 4: ops.append(.purge(id: try r.uuid(), at: try r.date()))
            case let t: throw BinaryDecodingError(offset: r.offset - 1, detail: "unknown operation tag \(t)")
            }
        }
        guard r.isAtEnd else { throw BinaryDecodingError(offset: r.offset, detail: "trailing bytes in payload") }
        return LogBatch(operations: ops, idempotencyKey: key, idempotentResponse: response, eventId: eventId,
                        writtenAt: writtenAt)
    }

    /// Why a segment's bytes stopped being records.
    public struct Damage: Sendable, Equatable {
        /// Absolute offset in the segment of the first byte that is not part of a valid record.
        public var offset: Int
        public var reason: String
    }

    /// A whole record (frame and CRC intact) whose payload does not decode. Its bytes stay in the segment.
    public struct UnreadableRecord: Sendable, Equatable {
        /// Absolute offset in the segment of the record's frame.
        public var offset: Int
        /// Payload length in bytes.
        public var length: Int
        public var reason: String
    }

    /// What decoding a stretch of a segment found.
    public struct Decoded: Sendable {
        /// The records, each with the absolute offset just past it.
        public var batches: [(batch: LogBatch, end: Int)]
        /// Absolute offset just past the last whole record (readable or not).
        public var validEnd: Int
        /// Whole records that did not decode, in segment order; the records around them are in `batches`.
        public var unreadable: [UnreadableRecord]
        /// Set when bytes after `validEnd` are not a whole record.
        public var damage: Damage?
    }

    /// Decodes the records in `data`, which holds the segment's bytes from absolute offset `base`.
    public static func decode(_ data: Data, base: Int) -> Decoded {
        let bytes = [UInt8](data)
        var batches: [(batch: LogBatch, end: Int)] = []
        var unreadable: [UnreadableRecord] = []
        var pos = 0
        var damage: Damage?
        while pos < bytes.count {
            if bytes.count - pos < frameHeaderSize {
                damage = Damage(offset: base + pos, reason: "truncated frame header (\(bytes.count - pos) bytes)")
                break
            }
            var r = BinaryReader(bytes, range: pos..<pos + frameHeaderSize)
            let m = (try? r.u32()) ?? 0
            let len = Int((try? r.u32()) ?? 0)
            let crc = (try? r.u32()) ?? 0
            guard m == magic else {
                damage = Damage(offset: base + pos, reason: "bad record magic 0x\(String(m, radix: 16))")
                break
            }
            guard len <= maxPayload, len <= bytes.count - pos - frameHeaderSize else {
                damage = Damage(offset: base + pos, reason: "record length \(len) runs past the end of the segment")
                break
            }
            let payload = pos + frameHeaderSize..<pos + frameHeaderSize + len
            let actual = bytes.withUnsafeBytes { b in
                CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: b[pos + 4..<pos + 8])),
                              UnsafeRawBufferPointer(rebasing: b[payload]))
            }
            guard actual == crc else {
                damage = Damage(offset: base + pos, reason: "CRC32C mismatch (stored \(crc), computed \(actual))")
                break
            }
            do {
                let batch = try decodePayload(bytes, range: payload)
                batches.append((batch, base + payload.upperBound))
            } catch {
                unreadable.append(UnreadableRecord(offset: base + pos, length: len, reason: "\(error)"))
            }
            pos = payload.upperBound
        }
        return Decoded(batches: batches, validEnd: base + pos, unreadable: unreadable, damage: damage)
    }
}
