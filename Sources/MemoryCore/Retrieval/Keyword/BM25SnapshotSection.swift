import Foundation
import MemoryStorage

/// A BM25 section that cannot be read back (or does not describe the memories it came with): the message
/// says where and why.
public struct BM25FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "BM25 section unreadable: \(message)" }
}

/// The BM25 postings of a partition as a compact snapshot section (kind ``kind``), so that a process opening a
/// large partition builds its keyword index without tokenising every memory again.
///
/// Rows are the snapshot's record positions, so the section holds no ids; document lengths and postings are
/// varints, rows delta-coded. Byte layout in `docs/retrieval.md`, "BM25 section". A reader checks the layout,
/// and that the section describes the memories it is given (their count, a fingerprint of their ids, the
/// format and tokeniser versions, and that each document's term frequencies add up to its length).
public enum BM25SnapshotSection {
    /// The section kind (derived data: ≥ ``SnapshotSection/firstDerivedKind``).
    public static let kind: UInt32 = 100
    /// Version of the byte layout.
    static let formatVersion: UInt8 = 1
    /// Version of the terms ``TextTokenizer`` produces: bump it when tokenisation or stemming changes, so
    /// postings written by an older build are ignored (rebuilt) instead of used.
    static let tokenizerVersion: UInt8 = 1

    /// The sections the retrieval layer stores in a snapshot of `state`
    /// (for ``PartitionStoreOptions/derivedSections``).
    public static func sections(for state: PartitionState) -> [SnapshotSection] {
        let index = BM25Index(documents: state.memories.map { ($0.id, $0.text) })
        return [SnapshotSection(kind: kind, data: encode(index))]
    }

    /// The section bytes of `index`.
    public static func encode(_ index: BM25Index) -> [UInt8] {
        var w = VarintWriter()
        w.bytes.reserveCapacity(16 + index.documentCount * 2 + index.postingRows.count * 3 + index.terms.count * 12)
        w.bytes.append(formatVersion)
        w.bytes.append(tokenizerVersion)
        w.u64(fingerprint(index.documentIds))
        w.varint(UInt64(index.documentCount))
        w.varint(UInt64(index.terms.count))
        for length in index.documentLengths { w.varint(UInt64(length)) }
        for (t, term) in index.terms.enumerated() {
            let utf8 = Array(term.utf8)
            w.varint(UInt64(utf8.count))
            w.bytes.append(contentsOf: utf8)
            let start = Int(index.postingStarts[t]), end = Int(index.postingStarts[t + 1])
            w.varint(UInt64(end - start))
            var previous: UInt32 = 0
            for p in start..<end {
                let row = index.postingRows[p]
                w.varint(UInt64(p == start ? row : row - previous))
                w.varint(UInt64(index.frequency(p)))
                previous = row
            }
        }
        return w.bytes
    }

    /// The index the section `bytes` holds over documents `documentIds` (the snapshot's memories, in record
    /// order); throws when the bytes are malformed or describe other documents.
    public static func decode(_ bytes: [UInt8], documentIds: [UUID]) throws(BM25FormatError) -> BM25Index {
        try bytes.withUnsafeBufferPointer { (buffer) throws(BM25FormatError) -> BM25Index in
            var r = VarintReader(buffer)
            let format = try r.byte("format version"), tokenizer = try r.byte("tokenizer version")
            guard format == formatVersion else { throw BM25FormatError(message: "unknown format version \(format)") }
            guard tokenizer == tokenizerVersion else {
                throw BM25FormatError(message: "written by tokenizer version \(tokenizer), this build has \(tokenizerVersion)")
            }
            guard try r.u64("id fingerprint") == fingerprint(documentIds) else {
                throw BM25FormatError(message: "the section describes other memories (id fingerprint differs)")
            }
            let n = try r.count("document count")
            guard n == documentIds.count else {
                throw BM25FormatError(message: "the section has \(n) documents, the snapshot \(documentIds.count) memories")
            }
            let termCount = try r.count("term count")
            var lengths = [UInt32]()
            lengths.reserveCapacity(n)
            var total: UInt64 = 0
            for _ in 0..<n {
                let l = try r.varint("document length")
                guard l <= UInt64(UInt32.max) else { throw BM25FormatError(message: "document length \(l) too large") }
                lengths.append(UInt32(l))
                total += l
            }
            var terms = [String]()
            terms.reserveCapacity(termCount)
            // Only to reject a term equal (under `String` comparison) to an earlier one; not kept.
            var seenTerms = Set<String>(minimumCapacity: termCount)
            var starts: [UInt32] = [0]
            starts.reserveCapacity(termCount + 1)
            var rows: [UInt32] = [], freqs: [UInt32] = []
            rows.reserveCapacity(r.remaining / 2)
            freqs.reserveCapacity(r.remaining / 2)
            var frequencySums = [UInt64](repeating: 0, count: n)
            var previousTerm: UnsafeBufferPointer<UInt8>? = nil
            for t in 0..<termCount {
                let termLength = try r.count("term \(t) length")
                let utf8 = try r.slice(termLength, "term \(t)")
                if let previousTerm, !previousTerm.lexicographicallyPrecedes(utf8) {
                    throw BM25FormatError(message: "term \(t) is out of order or repeated")
                }
                previousTerm = utf8
                guard let term = String(validating: utf8, as: UTF8.self) else {
                    throw BM25FormatError(message: "term \(t) is not UTF-8")
                }
                guard seenTerms.insert(term).inserted else {
                    throw BM25FormatError(message: "term \(t) repeats an earlier term")
                }
                terms.append(term)
                let p = try r.count("posting count of term \(t)")
                guard p > 0, p <= n else { throw BM25FormatError(message: "term \(t) has \(p) postings for \(n) documents") }
                var row: UInt64 = 0
                for i in 0..<p {
                    let delta = try r.varint("posting row"), tf = try r.varint("posting frequency")
                    guard i == 0 || delta > 0 else { throw BM25FormatError(message: "rows of term \(t) not ascending") }
                    row += delta
                    guard row < UInt64(n) else { throw BM25FormatError(message: "posting row \(row) of term \(t) ≥ document count \(n)") }
                    guard tf > 0, tf <= UInt64(UInt32.max) else { throw BM25FormatError(message: "term frequency \(tf) of term \(t)") }
                    rows.append(UInt32(row))
                    freqs.append(UInt32(tf))
                    frequencySums[Int(row)] += tf
                }
                starts.append(UInt32(rows.count))
            }
            guard r.remaining == 0 else { throw BM25FormatError(message: "\(r.remaining) trailing bytes") }
            for row in 0..<n where frequencySums[row] != UInt64(lengths[row]) {
                throw BM25FormatError(message: "document \(row): term frequencies add up to \(frequencySums[row]), its length is \(lengths[row])")
            }
            return BM25Index(documentIds: documentIds, documentLengths: lengths, totalLength: total, terms: terms,
                             postingStarts: starts, postingRows: rows, postingFrequencies: freqs)
        }
    }

    /// FNV-1a (64-bit) over the ids' bytes in order: ties the section to the records it was written with.
    static func fingerprint(_ ids: [UUID]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in ids {
            withUnsafeBytes(of: id.uuid) { raw in
                for b in raw { h = (h ^ UInt64(b)) &* 0x0100_0000_01b3 }
            }
        }
        return h
    }
}

/// Appends LEB128 varints and little-endian integers.
private struct VarintWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what ``VarintWriter`` wrote, throwing on truncation or overlong varints.
private struct VarintReader {
    let buffer: UnsafeBufferPointer<UInt8>
    var offset = 0
    var remaining: Int { buffer.count - offset }

    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func byte(_ what: String) throws(BM25FormatError) -> UInt8 {
        guard offset < buffer.count else { throw truncated(what) }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func varint(_ what: @autoclosure () -> String) throws(BM25FormatError) -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while offset < buffer.count {
            let b = buffer[offset]
            offset += 1
            guard shift < 64, shift < 63 || b <= 1 else { throw BM25FormatError(message: "varint too long (\(what()))") }
            value |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return value }
            shift += 7
        }
        throw truncated(what())
    }

    /// A varint used as a count of following items: at most the bytes left (each item takes one at least).
    mutating func count(_ what: @autoclosure () -> String) throws(BM25FormatError) -> Int {
        let v = try varint(what())
        guard v <= UInt64(remaining) else { throw BM25FormatError(message: "\(what()) \(v) exceeds the section size") }
        return Int(v)
    }

    mutating func u64(_ what: String) throws(BM25FormatError) -> UInt64 {
        let raw = try slice(8, what)
        var v: UInt64 = 0
        for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    mutating func slice(_ count: Int, _ what: @autoclosure () -> String) throws(BM25FormatError) -> UnsafeBufferPointer<UInt8> {
        guard count <= remaining else { throw truncated(what()) }
        defer { offset += count }
        return UnsafeBufferPointer(rebasing: buffer[offset..<offset + count])
    }

    private func truncated(_ what: String) -> BM25FormatError {
        BM25FormatError(message: "truncated while reading \(what) at byte \(offset)")
    }
}
