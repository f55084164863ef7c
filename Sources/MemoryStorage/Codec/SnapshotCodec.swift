import Foundation
import JSONModel

/// What a snapshot holds: a partition's full state at a revision, plus the embedding space of its vectors.
public struct SnapshotContents: Sendable {
    public var key: PartitionKey
    public var revision: UInt64
    public var space: EmbeddingSpace?
    public var memories: [StoredMemory]
    public var history: MemoryHistory
    public var idempotentResponses: [String: IdempotentResponse]
    /// Sections of kinds this reader does not know (for example BM25 postings), kept as raw bytes.
    public var extraSections: [SnapshotSection]

    public init(key: PartitionKey, revision: UInt64, space: EmbeddingSpace?, memories: [StoredMemory],
                history: MemoryHistory, idempotentResponses: [String: IdempotentResponse],
                extraSections: [SnapshotSection] = []) {
        self.key = key
        self.revision = revision
        self.space = space
        self.memories = memories
        self.history = history
        self.idempotentResponses = idempotentResponses
        self.extraSections = extraSections
    }

    public init(state: PartitionState, space: EmbeddingSpace?) {
        self.init(key: state.key, revision: state.revision, space: space, memories: state.memories,
                  history: state.history, idempotentResponses: state.idempotentResponses)
    }

    /// The partition state the snapshot holds; it carries the snapshot's extra sections (with its memories in
    /// record order) as its ``PartitionState/snapshotBase`` when there are any.
    public var state: PartitionState {
        PartitionState(key: key, memories: memories, history: history, idempotentResponses: idempotentResponses,
                       revision: revision, snapshotSections: extraSections)
    }
}

/// One section of a snapshot file: a kind and its bytes.
///
/// Kinds below ``firstDerivedKind`` belong to the storage engine; kinds from it up hold data a layer above
/// derives from the memories (``PartitionStoreOptions/derivedSections``), which the engine stores and hands
/// back without reading.
public struct SnapshotSection: Sendable, Equatable {
    /// The lowest kind reserved for derived data (docs/snapshot-format.md).
    public static let firstDerivedKind: UInt32 = 100

    public var kind: UInt32
    public var data: [UInt8]
    public init(kind: UInt32, data: [UInt8]) {
        self.kind = kind
        self.data = data
    }
}

/// A snapshot failed its checks.
public struct SnapshotFormatError: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public var description: String { detail }
}

/// The binary snapshot format (docs/snapshot-format.md): header, section table, checksummed sections.
///
/// Vectors are stored once, as int8 codes with a per-vector float32 scale (``Int8Quantizer``). Loading copies
/// the vectors section into one ``QuantizedRows`` block that the loaded memories point into (no float copies);
/// writing copies quantised rows back byte for byte and quantises only float vectors.
public enum SnapshotCodec {
    public static let magic: UInt32 = 0x4E53_4D41  // "AMSN"
    public static let version: UInt16 = 1
    static let headerSize = 16
    static let tableEntrySize = 32
    /// Records per chunk in the `recordChunks` section (chunks decode in parallel).
    static let recordsPerChunk = 4096

    public enum Kind: UInt32 {
        case meta = 1, vectors = 2, records = 3, history = 4, idempotency = 5, idIndex = 6, strings = 7, recordChunks = 8
        /// Optional: per idempotent answer (in the order of section 5), the memory ids whose erasure erases it.
        case idempotencyMemoryIds = 9
    }

    // MARK: Encoding

    public static func encode(_ s: SnapshotContents) -> Data {
        let dim = s.space?.dimension ?? s.memories.first?.vector.dimension ?? 0
        var sections: [SnapshotSection] = []

        var meta = BinaryWriter()
        meta.u64(s.revision)
        meta.u32(UInt32(s.memories.count))
        meta.u32(UInt32(dim))
        meta.optionalString(s.space?.model)
        meta.string(s.key.tenant)
        meta.string(s.key.owner.kind.rawValue)
        meta.string(s.key.owner.id)
        meta.date(Date())
        sections.append(SnapshotSection(kind: Kind.meta.rawValue, data: meta.buffer))

        sections.append(SnapshotSection(kind: Kind.vectors.rawValue, data: encodeVectors(s.memories, dim: dim)))

        var table = StringTable()
        var rec = BinaryWriter(capacity: s.memories.count * 128)
        var chunkStarts: [Int] = []
        for (i, m) in s.memories.enumerated() {
            if i % recordsPerChunk == 0 { chunkStarts.append(rec.count) }
            rec.record(m, &table)
        }
        var strings = BinaryWriter()
        strings.varint(table.strings.count)
        for str in table.strings { strings.vstring(str) }
        sections.append(SnapshotSection(kind: Kind.strings.rawValue, data: strings.buffer))
        sections.append(SnapshotSection(kind: Kind.records.rawValue, data: rec.buffer))
        var chunks = BinaryWriter()
        chunks.u32(UInt32(recordsPerChunk))
        chunks.u32(UInt32(chunkStarts.count))
        for o in chunkStarts { chunks.u64(UInt64(o)) }
        sections.append(SnapshotSection(kind: Kind.recordChunks.rawValue, data: chunks.buffer))

        let histories = s.history.all
        var hist = BinaryWriter(capacity: histories.count * 48)
        let liveIndex = Dictionary(uniqueKeysWithValues: s.memories.enumerated().map { ($1.id, $0) })
        hist.varint(histories.count)
        // Live memories' histories first, in record order, then the others by id.
        let liveIds = s.memories.map(\.id).filter { histories[$0] != nil }
        let deadIds = histories.keys.filter { liveIndex[$0] == nil }.sorted { uuidPrecedes($0, $1) }
        for id in liveIds + deadIds {
            let entries = histories[id]!
            let live = liveIndex[id].map { s.memories[$0] }
            if let i = liveIndex[id] { hist.varint(i + 1) } else { hist.varint(0); hist.uuid(id) }
            hist.varint(entries.count)
            var previousNew: String? = nil
            for e in entries {
                var flags: UInt8 = 0
                if let o = e.oldText { flags |= (o == previousNew) ? 0x08 : 0x01 }
                if let n = e.newText { flags |= (n == live?.text) ? 0x04 : 0x02 }
                if e.at == live?.createdAt { flags |= 0x10 }
                hist.u8(e.event == .add ? 1 : e.event == .update ? 2 : 3)
                hist.u8(flags)
                if flags & 0x01 != 0 { hist.vstring(e.oldText!) }
                if flags & 0x02 != 0 { hist.vstring(e.newText!) }
                if flags & 0x10 == 0 { hist.date(e.at) }
                hist.uuid(e.eventId)
                previousNew = e.newText
            }
        }
        sections.append(SnapshotSection(kind: Kind.history.rawValue, data: hist.buffer))

        var idem = BinaryWriter()
        var idemIds = BinaryWriter()
        idem.u32(UInt32(s.idempotentResponses.count))
        idemIds.u32(UInt32(s.idempotentResponses.count))
        for k in s.idempotentResponses.keys.sorted() {
            let r = s.idempotentResponses[k]!
            idem.string(k)
            idem.blob(r.response)
            idem.date(r.recordedAt)
            idemIds.u32(UInt32(r.memoryIds.count))
            for id in r.memoryIds { idemIds.uuid(id) }
        }
        sections.append(SnapshotSection(kind: Kind.idempotency.rawValue, data: idem.buffer))
        if s.idempotentResponses.values.contains(where: { !$0.memoryIds.isEmpty }) {
            sections.append(SnapshotSection(kind: Kind.idempotencyMemoryIds.rawValue, data: idemIds.buffer))
        }

        var index = BinaryWriter(capacity: s.memories.count * 4)
        let order = s.memories.indices.sorted { uuidPrecedes(s.memories[$0].id, s.memories[$1].id) }
        for i in order { index.u32(UInt32(i)) }
        sections.append(SnapshotSection(kind: Kind.idIndex.rawValue, data: index.buffer))

        sections.append(contentsOf: s.extraSections)
        return assemble(sections)
    }

    /// True when `a`'s 16 bytes precede `b`'s in byte order (the `idIndex` order), compared as two big-endian
    /// 64-bit halves rather than byte by byte.
    static func uuidPrecedes(_ a: UUID, _ b: UUID) -> Bool {
        let (a0, a1) = uuidHalves(a), (b0, b1) = uuidHalves(b)
        return a0 != b0 ? a0 < b0 : a1 < b1
    }

    @inline(__always)
    private static func uuidHalves(_ id: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: id.uuid) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The vectors section: `count × f32 scale`, then `count × dim` int8 codes. Quantised vectors are copied
    /// as they are (a state loaded from one snapshot writes its block back in one copy); float vectors are
    /// quantised by ``Int8Quantizer``; a vector of another length than `dim` is cut or zero-padded first.
    static func encodeVectors(_ memories: [StoredMemory], dim: Int) -> [UInt8] {
        let n = memories.count
        if let whole = wholeBlock(memories, dim: dim) {
            return whole.withSectionBytes { [UInt8]($0) }
        }
        var out = [UInt8](repeating: 0, count: n * 4 + n * dim)
        out.withUnsafeMutableBytes { raw in
            let codes = (raw.baseAddress! + n * 4).assumingMemoryBound(to: Int8.self)
            for i in memories.indices {
                let row = codes + i * dim
                let vector = memories[i].vector
                let scale: Float
                if let (rows, r) = vector.quantizedRow, rows.dimension == dim {
                    withExtendedLifetime(rows) { row.update(from: rows.codes(r), count: dim) }
                    scale = rows.scale(r)
                } else {
                    var floats = vector.floats
                    if floats.count != dim { floats = Array(floats.prefix(dim)) + Array(repeating: 0, count: max(0, dim - floats.count)) }
                    scale = floats.withUnsafeBufferPointer { f in
                        f.baseAddress.map { Int8Quantizer.quantize($0, count: dim, into: row) } ?? 0
                    }
                }
                raw.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return out
    }

    /// The block holding exactly `memories`' vectors, row `i` for memory `i`, when there is one.
    private static func wholeBlock(_ memories: [StoredMemory], dim: Int) -> QuantizedRows? {
        guard let (rows, _) = memories.first?.vector.quantizedRow, rows.count == memories.count,
              rows.dimension == dim else { return nil }
        for i in memories.indices {
            guard let (other, r) = memories[i].vector.quantizedRow, other === rows, r == i else { return nil }
        }
        return rows
    }

    static func assemble(_ sections: [SnapshotSection]) -> Data {
        func align8(_ n: Int) -> Int { (n + 7) & ~7 }
        let tableEnd = headerSize + sections.count * tableEntrySize + 4
        var offsets: [Int] = []
        var pos = align8(tableEnd)
        for s in sections {
            offsets.append(pos)
            pos = align8(pos + s.data.count)
        }
        var w = BinaryWriter(capacity: pos)
        w.u32(magic)
        w.u16(version)
        w.u16(0)
        w.u32(UInt32(sections.count))
        w.u32(CRC32C.checksum(w.buffer))
        let tableStart = w.count
        for (s, o) in zip(sections, offsets) {
            w.u32(s.kind)
            w.u32(0)
            w.u64(UInt64(o))
            w.u64(UInt64(s.data.count))
            w.u32(CRC32C.checksum(s.data))
            w.u32(0)
        }
        w.u32(CRC32C.checksum(w.buffer[tableStart...]))
        for (s, o) in zip(sections, offsets) {
            w.bytes([UInt8](repeating: 0, count: o - w.count))
            w.bytes(s.data)
        }
        w.bytes([UInt8](repeating: 0, count: pos - w.count))
        return Data(w.buffer)
    }

    // MARK: Decoding

    /// Parses and verifies a snapshot. Every section's CRC32C is checked; unknown section kinds are kept in
    /// ``SnapshotContents/extraSections`` and otherwise skipped.
    public static func decode(_ data: Data, key: PartitionKey) throws -> SnapshotContents {
        func fail(_ s: String) -> SnapshotFormatError { SnapshotFormatError(detail: s) }
        guard data.count >= headerSize else { throw fail("file too short for a header (\(data.count) bytes)") }
        let header = [UInt8](data.prefix(headerSize))
        var h = BinaryReader(header)
        let m = try h.u32(), v = try h.u16()
        _ = try h.u16()
        let count = Int(try h.u32())
        let hcrc = try h.u32()
        guard m == magic else { throw fail("not a snapshot (magic 0x\(String(m, radix: 16)))") }
        guard hcrc == CRC32C.checksum(header[0..<12]) else { throw fail("header checksum mismatch") }
        guard v == version else { throw fail("unsupported snapshot version \(v)") }
        let tableEnd = headerSize + count * tableEntrySize
        guard count < 1 << 16, data.count >= tableEnd + 4 else { throw fail("section table truncated") }
        let head = [UInt8](data.prefix(tableEnd + 4))
        var tr = BinaryReader(head, range: tableEnd..<tableEnd + 4)
        guard try tr.u32() == CRC32C.checksum(head[headerSize..<tableEnd]) else {
            throw fail("section table checksum mismatch")
        }
        // Every section is checked in the file's bytes; the vectors section is then copied from there into its
        // block once, and the others into one buffer (`bytes`) the readers below walk (`known` gives their
        // ranges in it): the vectors, two thirds of a snapshot, are not copied twice.
        var inFile: [(kind: UInt32, range: Range<Int>)] = []
        var t = BinaryReader(head, range: headerSize..<tableEnd)
        for _ in 0..<count {
            let kind = try t.u32()
            _ = try t.u32()
            let off = try t.u64(), len = try t.u64()
            let crc = try t.u32()
            _ = try t.u32()
            guard off <= UInt64(data.count), len <= UInt64(data.count) - off else {
                throw fail("section \(kind) lies outside the file")
            }
            let r = Int(off)..<Int(off + len)
            let actual = data.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[r])) }
            guard actual == crc else { throw fail("section \(kind) checksum mismatch (stored \(crc), computed \(actual))") }
            inFile.append((kind, r))
        }
        var vectorsInFile: Range<Int>?
        var known: [Kind: Range<Int>] = [:]
        var extra: [SnapshotSection] = []
        var copied: [(from: Range<Int>, to: Int)] = []
        var compactSize = 0
        for (kind, r) in inFile {
            if let k = Kind(rawValue: kind) {
                if k == .vectors { vectorsInFile = r; continue }
                known[k] = compactSize..<compactSize + r.count
                copied.append((r, compactSize))
                compactSize += r.count
            } else {
                extra.append(SnapshotSection(kind: kind, data: [UInt8](data[data.startIndex + r.lowerBound..<data.startIndex + r.upperBound])))
            }
        }
        let bytes = LargeBuffers.array(count: compactSize) { buffer in
            data.withUnsafeBytes { file in
                for (from, to) in copied where !from.isEmpty {
                    (buffer + to).copyMemory(from: file.baseAddress! + from.lowerBound, byteCount: from.count)
                }
            }
        }
        guard let vr = vectorsInFile else { throw fail("required section \(Kind.vectors) missing") }
        for k in [Kind.meta, .strings, .records, .history, .idempotency] where known[k] == nil {
            throw fail("required section \(k) missing")
        }
        do {
            var meta = BinaryReader(bytes, range: known[.meta]!)
            let revision = try meta.u64()
            let n = Int(try meta.u32())
            let dim = Int(try meta.u32())
            let model = try meta.optionalString()
            let space = model.map { EmbeddingSpace(model: $0, dimension: dim) }

            guard vr.count == n * 4 + n * dim else { throw fail("vector section has \(vr.count) bytes, expected \(n * (4 + dim))") }
            var sr = BinaryReader(bytes, range: known[.strings]!)
            let sn = try sr.varintInt()
            guard sn <= sr.remaining else { throw fail("string table count too large") }
            var table: [String] = []
            table.reserveCapacity(sn)
            for _ in 0..<sn { table.append(try sr.vstring()) }
            let rows = data.withUnsafeBytes { QuantizedRows(section: UnsafeRawBufferPointer(rebasing: $0[vr]), count: n, dimension: dim) }
            let memories = try decodeRecords(bytes, records: known[.records]!, chunks: known[.recordChunks],
                                             vectors: rows, count: n, table: table)

            let history = try SnapshotHistorySection(section: bytes[known[.history]!], records: memories,
                                                      idIndex: known[.idIndex].map { bytes[$0] })

            var ir = BinaryReader(bytes, range: known[.idempotency]!)
            let inum = Int(try ir.u32())
            var idsReader = known[.idempotencyMemoryIds].map { BinaryReader(bytes, range: $0) }
            if var r = idsReader {
                guard Int(try r.u32()) == inum else { throw fail("section 9 does not match section 5's answer count") }
                idsReader = r
            }
            var idem: [String: IdempotentResponse] = [:]
            for _ in 0..<inum {
                let k = try ir.string()
                let r = try ir.blob()
                var ids: [UUID] = []
                if var idr = idsReader {
                    let n = Int(try idr.u32())
                    guard n <= idr.remaining / 16 else { throw fail("section 9: id count too large") }
                    for _ in 0..<n { ids.append(try idr.uuid()) }
                    idsReader = idr
                }
                idem[k] = IdempotentResponse(response: r, recordedAt: try ir.date(), memoryIds: ids)
            }
            return SnapshotContents(key: key, revision: revision, space: space, memories: memories,
                                    history: MemoryHistory(snapshot: history),
                                    idempotentResponses: idem, extraSections: extra)
        } catch let e as BinaryDecodingError {
            throw fail("malformed section: \(e)")
        }
    }
}

/// Strings that repeat across memories (scope ids, categories), stored once in the `strings` section.
struct StringTable {
    var strings: [String] = []
    var index: [String: Int] = [:]

    mutating func id(_ s: String) -> Int {
        if let i = index[s] { return i }
        index[s] = strings.count
        strings.append(s)
        return strings.count - 1
    }
}

extension SnapshotCodec {
    /// Decodes the records, each pointing at its row of `vectors`, chunk by chunk on all cores when the
    /// `recordChunks` section is present (sequentially otherwise).
    static func decodeRecords(_ bytes: [UInt8], records: Range<Int>, chunks: Range<Int>?, vectors: QuantizedRows,
                              count n: Int, table: [String]) throws -> [StoredMemory] {
        var parsedStarts: [Int] = [0]
        var parsedPer = max(1, n)
        if let chunks, n > 0 {
            var r = BinaryReader(bytes, range: chunks)
            let p = Int(try r.u32()), c = Int(try r.u32())
            guard p > 0, c == (n + p - 1) / p, r.remaining == c * 8 else {
                throw SnapshotFormatError(detail: "record chunk table does not match \(n) records")
            }
            parsedStarts = []
            for _ in 0..<c {
                let o = try r.u64()
                guard o <= UInt64(records.count), o >= UInt64(parsedStarts.last ?? 0) else {
                    throw SnapshotFormatError(detail: "record chunk offset \(o) out of order or range")
                }
                parsedStarts.append(Int(o))
            }
            parsedPer = p
        }
        let starts = parsedStarts, per = parsedPer
        let outcome = ChunkOutcomes(count: starts.count)
        // Each chunk initialises its own slots of the result array in place (no per-chunk arrays to copy and
        // release afterwards); on any failure every initialised slot is deinitialised and the error thrown.
        let memories = [StoredMemory](unsafeUninitializedCapacity: n) { buffer, initialized in
            let slotsBits = Int(bitPattern: buffer.baseAddress)
            let decodeChunk: @Sendable (Int) -> Void = { c in
                let slots = UnsafeMutablePointer<StoredMemory>(bitPattern: slotsBits)!
                let first = c * per, last = min(n, first + per)
                var done = 0
                do {
                    let lower = records.lowerBound + starts[c]
                    let upper = c + 1 < starts.count ? records.lowerBound + starts[c + 1] : records.upperBound
                    var rec = BinaryReader(bytes, range: lower..<upper)
                    var interning = RecordInterning()
                    for i in first..<last {
                        var m = try rec.record(table, interning: &interning)
                        m.vector = StoredVector(rows: vectors, row: i)
                        (slots + i).initialize(to: m)
                        done += 1
                    }
                    guard rec.isAtEnd else { throw BinaryDecodingError(offset: rec.offset, detail: "trailing bytes after record chunk \(c)") }
                    outcome.finish(c, initialized: done, error: nil)
                } catch {
                    outcome.finish(c, initialized: done, error: error)
                }
            }
            if starts.count > 1 {
                DispatchQueue.concurrentPerform(iterations: starts.count, execute: decodeChunk)
            } else if n > 0 {
                decodeChunk(0)
            }
            if outcome.firstError == nil {
                initialized = n
            } else {
                for (c, count) in outcome.initializedCounts.enumerated() {
                    (buffer.baseAddress! + c * per).deinitialize(count: count)
                }
                initialized = 0
            }
        }
        if let error = outcome.firstError { throw error }
        return memories
    }
}

/// How each chunk of a parallel record decode ended: slots initialised, and the first error.
/// `@unchecked Sendable`: every stored property is only touched while holding `lock`.
final class ChunkOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int]
    private var error: Error?

    init(count: Int) { counts = Array(repeating: 0, count: count) }

    func finish(_ chunk: Int, initialized: Int, error: Error?) {
        lock.lock()
        counts[chunk] = initialized
        if self.error == nil, let error { self.error = error }
        lock.unlock()
    }

    var initializedCounts: [Int] { lock.lock(); defer { lock.unlock() }; return counts }
    var firstError: Error? { lock.lock(); defer { lock.unlock() }; return error }
}

extension BinaryWriter {
    /// A memory without its embedding (snapshot records section; docs/snapshot-format.md §4).
    mutating func record(_ m: StoredMemory, _ table: inout StringTable) {
        uuid(m.id)
        let hex = m.contentHash.md5Bytes
        var flags: UInt8 = 0
        if hex != nil { flags |= 0x01 }
        if m.updatedAt != m.createdAt { flags |= 0x02 }
        if m.expirationDate != nil { flags |= 0x04 }
        u8(flags)
        vstring(m.text)
        if let hex { bytes(hex) } else { vstring(m.hash) }
        for scope in [m.scopes.userId, m.scopes.agentId, m.scopes.appId, m.scopes.runId] {
            varint(scope.map { table.id($0) + 1 } ?? 0)
        }
        compactJSON(m.metadata)
        varint(m.categories.count)
        for c in m.categories { varint(table.id(c)) }
        date(m.createdAt)
        if m.updatedAt != m.createdAt { date(m.updatedAt) }
        if let e = m.expirationDate { date(e) }
    }

}

/// Values that repeat across the records of a chunk (metadata objects, category lists, scopes), decoded once and
/// shared by every memory that carries them: a metadata object is a dictionary allocation of a few hundred
/// bytes, so a partition whose memories carry the same few metadata values keeps each once, not per memory.
struct RecordInterning {
    /// At most this many distinct values of each kind are remembered (unique metadata gains nothing).
    static let limit = 256
    var metadata: [EncodedBytes: JSONValue] = [:]
    /// Category lists by their encoded bytes (count, then string-table indexes).
    var categories: [EncodedBytes: [String]] = [:]
    /// Scopes by their four string-table references (0: none).
    var scopes: [SIMD4<Int32>: SharedScopes] = [:]

    /// An encoded value as a dictionary key, hashed in one call over its bytes (not byte by byte).
    struct EncodedBytes: Hashable {
        let bytes: ArraySlice<UInt8>
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
        static func == (a: EncodedBytes, b: EncodedBytes) -> Bool {
            a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { y in x.count == y.count && memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
        }
    }
}

extension BinaryReader {
    mutating func record(_ table: [String]) throws -> StoredMemory {
        var interning = RecordInterning()
        return try record(table, interning: &interning)
    }

    mutating func record(_ table: [String], interning: inout RecordInterning) throws -> StoredMemory {
        func lookup(_ i: Int) throws -> String {
            guard i < table.count else { throw BinaryDecodingError(offset: offset, detail: "string index \(i) out of range") }
            return table[i]
        }
        let id = try uuid()
        let flags = try u8()
        let text = try vstring()
        let hash = flags & 0x01 != 0 ? ContentHash(md5Bytes: try bytes(16)) : ContentHash(try vstring())
        func scope() throws -> Int32 {
            let v = try varintInt()
            guard v <= table.count else { throw BinaryDecodingError(offset: offset, detail: "string index \(v - 1) out of range") }
            return Int32(v)
        }
        let scopeRefs = SIMD4(try scope(), try scope(), try scope(), try scope())
        let scopes: SharedScopes
        if let known = interning.scopes[scopeRefs] {
            scopes = known
        } else {
            func string(_ ref: Int32) -> String? { ref == 0 ? nil : table[Int(ref) - 1] }
            scopes = SharedScopes(MemoryScopes(userId: string(scopeRefs[0]), agentId: string(scopeRefs[1]),
                                               appId: string(scopeRefs[2]), runId: string(scopeRefs[3])))
            if interning.scopes.count < RecordInterning.limit { interning.scopes[scopeRefs] = scopes }
        }
        // Metadata and category lists are looked up by their encoded bytes before anything is built: most
        // records repeat a value an earlier record of the chunk carried, whose bytes were decoded (and
        // checked) then. Only a value not seen before is decoded.
        let metadataStart = self
        try skipCompactJSON()
        let metadataBytes = RecordInterning.EncodedBytes(bytes: bytesRead(metadataStart.offset..<offset))
        let metadata: JSONValue
        if let known = interning.metadata[metadataBytes] {
            metadata = known
        } else {
            var reader = metadataStart
            metadata = try reader.compactJSON()
            if interning.metadata.count < RecordInterning.limit { interning.metadata[metadataBytes] = metadata }
        }
        let categoriesStart = offset
        let nc = try varintInt()
        guard nc <= remaining else { throw BinaryDecodingError(offset: offset, detail: "category count too large") }
        for _ in 0..<nc { _ = try varintInt() }
        let categoryBytes = RecordInterning.EncodedBytes(bytes: bytesRead(categoriesStart..<offset))
        let cats: [String]
        if let known = interning.categories[categoryBytes] {
            cats = known
        } else {
            var reader = BinaryReader(Array(categoryBytes.bytes))
            _ = try reader.varintInt()
            var decoded: [String] = []
            decoded.reserveCapacity(nc)
            for _ in 0..<nc { decoded.append(try lookup(try reader.varintInt())) }
            cats = decoded
            if interning.categories.count < RecordInterning.limit { interning.categories[categoryBytes] = cats }
        }
        let created = try date()
        let updated = flags & 0x02 != 0 ? try date() : created
        let expiration: Date? = flags & 0x04 != 0 ? try date() : nil
        return StoredMemory(id: id, text: text, contentHash: hash,
                            sharedScopes: scopes,
                            metadata: metadata, categories: cats, createdAt: created, updatedAt: updated,
                            expirationDate: expiration, vector: StoredVector([]))
    }
}
