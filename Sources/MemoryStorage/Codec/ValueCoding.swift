import Foundation
import JSONModel

/// How a tagged JSON value writes its counts and string lengths: fixed `u32` in log records
/// (docs/log-format.md §3), LEB128 varints in snapshot records (docs/snapshot-format.md). One tag grammar.
enum JSONLengthPrefix {
    case u32
    case varint
}

/// Binary encodings of the model values shared by the log and the snapshot (see docs/log-format.md §3).
extension BinaryWriter {
    /// Tagged JSON value with `u32` counts and string lengths (log records): see ``taggedJSON(_:lengths:)``.
    mutating func json(_ v: JSONValue) { taggedJSON(v, lengths: .u32) }

    /// Tagged JSON value with varint counts and string lengths (snapshot records).
    mutating func compactJSON(_ v: JSONValue) { taggedJSON(v, lengths: .varint) }

    /// Tagged JSON value: 0 null · 1 false · 2 true · 3 number (f64) · 4 string · 5 array (count, values) ·
    /// 6 object (count, then key string + value, keys in ascending byte order). Counts and string lengths are
    /// written as `lengths` says.
    mutating func taggedJSON(_ v: JSONValue, lengths: JSONLengthPrefix) {
        switch v {
        case .null: u8(0)
        case .bool(let b): u8(b ? 2 : 1)
        case .number(let d): u8(3); f64(d)
        case .string(let s): u8(4); jsonString(s, lengths)
        case .array(let a):
            u8(5); jsonCount(a.count, lengths)
            for e in a { taggedJSON(e, lengths: lengths) }
        case .object(let o):
            u8(6); jsonCount(o.count, lengths)
            for k in o.keys.sorted(by: BytewiseOrder.precedes) {
                jsonString(k, lengths)
                taggedJSON(o[k]!, lengths: lengths)
            }
        }
    }

    @inline(__always)
    private mutating func jsonCount(_ n: Int, _ lengths: JSONLengthPrefix) {
        switch lengths {
        case .u32: u32(UInt32(n))
        case .varint: varint(n)
        }
    }

    @inline(__always)
    private mutating func jsonString(_ s: String, _ lengths: JSONLengthPrefix) {
        switch lengths {
        case .u32: string(s)
        case .varint: vstring(s)
        }
    }

    mutating func scopes(_ s: MemoryScopes) {
        optionalString(s.userId)
        optionalString(s.agentId)
        optionalString(s.appId)
        optionalString(s.runId)
    }

    /// A memory with its float32 embedding (log records; a quantised vector is written as `code × scale`).
    mutating func memory(_ m: StoredMemory) {
        uuid(m.id)
        string(m.text)
        string(m.hash)
        scopes(m.scopes)
        json(m.metadata)
        u32(UInt32(m.categories.count))
        for c in m.categories { string(c) }
        date(m.createdAt)
        date(m.updatedAt)
        if let e = m.expirationDate { u8(1); date(e) } else { u8(0) }
        let embedding = m.embedding  // materialised once (dequantised when the memory holds codes)
        u32(UInt32(embedding.count))
        floats(embedding)
    }
}

extension BinaryReader {
    /// Reads ``BinaryWriter/json(_:)``.
    mutating func json() throws -> JSONValue { try taggedJSON(lengths: .u32, depth: 0) }

    /// Reads ``BinaryWriter/compactJSON(_:)``.
    mutating func compactJSON() throws -> JSONValue { try taggedJSON(lengths: .varint, depth: 0) }

    /// Reads ``BinaryWriter/taggedJSON(_:lengths:)``; nesting deeper than ``RecordLimits/maxJSONNesting`` and
    /// counts larger than the bytes left are refused.
    mutating func taggedJSON(lengths: JSONLengthPrefix, depth: Int) throws -> JSONValue {
        guard depth < RecordLimits.maxJSONNesting else {
            throw BinaryDecodingError(offset: offset, detail: "JSON nested deeper than \(RecordLimits.maxJSONNesting) levels")
        }
        switch try u8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .number(try f64())
        case 4: return .string(try jsonString(lengths))
        case 5:
            let n = try jsonCount(lengths)
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "array count too large") }
            var a: [JSONValue] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try taggedJSON(lengths: lengths, depth: depth + 1)) }
            return .array(a)
        case 6:
            let n = try jsonCount(lengths)
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "object count too large") }
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(n)
            for _ in 0..<n {
                let k = try jsonString(lengths)
                o[k] = try taggedJSON(lengths: lengths, depth: depth + 1)
            }
            return .object(o)
        case let t: throw BinaryDecodingError(offset: offset - 1, detail: "unknown JSON tag \(t)")
        }
    }

    /// Moves past a ``BinaryWriter/compactJSON(_:)`` value without building it: checks the tags, counts,
    /// lengths and nesting as ``taggedJSON(lengths:depth:)`` does, but not the strings' UTF-8 (a caller that
    /// keeps the value decodes it, which does).
    mutating func skipCompactJSON() throws { try skipTaggedJSON(lengths: .varint, depth: 0) }

    mutating func skipTaggedJSON(lengths: JSONLengthPrefix, depth: Int) throws {
        guard depth < RecordLimits.maxJSONNesting else {
            throw BinaryDecodingError(offset: offset, detail: "JSON nested deeper than \(RecordLimits.maxJSONNesting) levels")
        }
        switch try u8() {
        case 0, 1, 2: return
        case 3: try skip(8)
        case 4: try skip(try jsonCount(lengths))
        case 5:
            let n = try jsonCount(lengths)
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "array count too large") }
            for _ in 0..<n { try skipTaggedJSON(lengths: lengths, depth: depth + 1) }
        case 6:
            let n = try jsonCount(lengths)
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "object count too large") }
            for _ in 0..<n {
                try skip(try jsonCount(lengths))
                try skipTaggedJSON(lengths: lengths, depth: depth + 1)
            }
        case let t: throw BinaryDecodingError(offset: offset - 1, detail: "unknown JSON tag \(t)")
        }
    }

    @inline(__always)
    private mutating func jsonCount(_ lengths: JSONLengthPrefix) throws -> Int {
        switch lengths {
        case .u32: return Int(try u32())
        case .varint: return try varintInt()
        }
    }

    @inline(__always)
    private mutating func jsonString(_ lengths: JSONLengthPrefix) throws -> String {
        switch lengths {
        case .u32: return try string()
        case .varint: return try vstring()
        }
    }

    mutating func scopes() throws -> MemoryScopes {
        MemoryScopes(userId: try optionalString(), agentId: try optionalString(), appId: try optionalString(),
                     runId: try optionalString())
    }

    mutating func memory() throws -> StoredMemory {
        let id = try uuid()
        let text = try string()
        let hash = try string()
        let scopes = try scopes()
        let metadata = try json()
        let nc = Int(try u32())
        guard nc <= remaining else { throw BinaryDecodingError(offset: offset, detail: "category count too large") }
        var cats: [String] = []
        for _ in 0..<nc { cats.append(try string()) }
        let created = try date()
        let updated = try date()
        let expiration: Date? = try u8() != 0 ? try date() : nil
        let dim = Int(try u32())
        let emb = try floats(dim)
        return StoredMemory(id: id, text: text, hash: hash, scopes: scopes, metadata: metadata, categories: cats,
                            createdAt: created, updatedAt: updated, expirationDate: expiration, embedding: emb)
    }
}
