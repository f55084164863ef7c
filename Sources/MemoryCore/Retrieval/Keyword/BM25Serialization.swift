import Foundation

/// A BM25 section that cannot be read back: the message says where and why.
public struct BM25FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "BM25 section unreadable: \(message)" }
}

extension BM25Index {
    static let magic = Array("AMBM25v1".utf8)

    /// The index as bytes, little-endian (layout in `docs/retrieval.md`, "BM25 section"):
    /// magic `AMBM25v1`, u32 N, u32 T, u64 total length, N × 16-byte ids, N × u32 lengths, then per term:
    /// u32 byte count, UTF-8 bytes, u32 P, P × u32 rows, P × u32 frequencies.
    public func serialized() -> Data {
        var out = Data()
        out.reserveCapacity(32 + documentCount * 20 + postingRows.count * 8 + terms.count * 16)
        out.append(contentsOf: Self.magic)
        out.appendLE(UInt32(documentCount))
        out.appendLE(UInt32(terms.count))
        out.appendLE(totalLength)
        for id in documentIds {
            withUnsafeBytes(of: id.uuid) { out.append(contentsOf: $0) }
        }
        for l in documentLengths { out.appendLE(l) }
        for (t, term) in terms.enumerated() {
            let bytes = Array(term.utf8)
            out.appendLE(UInt32(bytes.count))
            out.append(contentsOf: bytes)
            let start = Int(postingStarts[t]), end = Int(postingStarts[t + 1])
            out.appendLE(UInt32(end - start))
            for p in start..<end { out.appendLE(postingRows[p]) }
            for p in start..<end { out.appendLE(postingFrequencies[p]) }
        }
        return out
    }

    /// Reads bytes written by ``serialized()``; throws on any truncation or inconsistency.
    public init(serialized data: Data) throws(BM25FormatError) {
        var r = ByteReader(bytes: [UInt8](data))
        guard try r.bytes(8, "magic") == Self.magic else { throw BM25FormatError(message: "bad magic (not a BM25 section)") }
        let n = Int(try r.u32("document count"))
        let termCount = Int(try r.u32("term count"))
        let total = try r.u64("total length")
        guard n <= r.remaining / 20 else { throw BM25FormatError(message: "document count \(n) exceeds the section size") }
        var ids: [UUID] = []
        ids.reserveCapacity(n)
        for _ in 0..<n {
            let b = try r.bytes(16, "document id")
            ids.append(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
        }
        var lengths: [UInt32] = []
        lengths.reserveCapacity(n)
        for _ in 0..<n { lengths.append(try r.u32("document length")) }
        var terms: [String] = []
        var starts: [UInt32] = [0]
        var rows: [UInt32] = []
        var freqs: [UInt32] = []
        for t in 0..<termCount {
            let len = Int(try r.u32("term \(t) length"))
            let bytes = try r.bytes(len, "term \(t)")
            let term = String(decoding: bytes, as: UTF8.self)
            if let last = terms.last, !Array(last.utf8).lexicographicallyPrecedes(bytes) {
                throw BM25FormatError(message: "term \(t) is out of order or repeated")
            }
            terms.append(term)
            let p = Int(try r.u32("posting count of term \(t)"))
            guard p <= r.remaining / 8 else { throw BM25FormatError(message: "posting count of term \(t) exceeds the section size") }
            for _ in 0..<p {
                let row = try r.u32("posting row")
                guard Int(row) < n else { throw BM25FormatError(message: "posting row \(row) of term \(t) ≥ document count \(n)") }
                rows.append(row)
            }
            for _ in 0..<p { freqs.append(try r.u32("posting frequency")) }
            starts.append(UInt32(rows.count))
        }
        guard r.remaining == 0 else { throw BM25FormatError(message: "\(r.remaining) trailing bytes") }
        self.init(documentIds: ids, documentLengths: lengths, totalLength: total, terms: terms,
                  postingStarts: starts, postingRows: rows, postingFrequencies: freqs)
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int, _ what: String) throws(BM25FormatError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw BM25FormatError(message: "truncated while reading \(what) at byte \(offset)")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u32(_ what: String) throws(BM25FormatError) -> UInt32 {
        let b = try bytes(4, what)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func u64(_ what: String) throws(BM25FormatError) -> UInt64 {
        let lo = UInt64(try u32(what)), hi = UInt64(try u32(what))
        return lo | hi << 32
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
