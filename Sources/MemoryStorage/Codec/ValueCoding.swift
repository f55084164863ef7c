import Foundation

/// Binary encodings of the model values shared by the log and the snapshot (see docs/log-format.md §3).
extension BinaryWriter {
    /// Tagged JSON value: 0 null · 1 false · 2 true · 3 number (f64) · 4 string · 5 array (u32 count, values) ·
    /// 6 object (u32 count, then key string + value, keys in ascending byte order).
    mutating func json(_ v: JSONValue) {
        switch v {
        case .null: u8(0)
        case .bool(let b): u8(b ? 2 : 1)
        case .number(let d): u8(3); f64(d)
        case .string(let s): u8(4); string(s)
        case .array(let a):
            u8(5); u32(UInt32(a.count))
            for e in a { json(e) }
        case .object(let o):
            u8(6); u32(UInt32(o.count))
            for k in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                string(k)
                json(o[k]!)
            }
        }
    }

    mutating func scopes(_ s: MemoryScopes) {
        optionalString(s.userId)
        optionalString(s.agentId)
        optionalString(s.appId)
        optionalString(s.runId)
    }

    /// A memory with its float32 embedding (log records).
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
        u32(UInt32(m.embedding.count))
        floats(m.embedding)
    }
}

extension BinaryReader {
    mutating func json(depth: Int = 0) throws -> JSONValue {
        guard depth < 256 else { throw BinaryDecodingError(offset: offset, detail: "JSON nested too deeply") }
        switch try u8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .number(try f64())
        case 4: return .string(try string())
        case 5:
            let n = Int(try u32())
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "array count too large") }
            var a: [JSONValue] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try json(depth: depth + 1)) }
            return .array(a)
        case 6:
            let n = Int(try u32())
            guard n <= remaining else { throw BinaryDecodingError(offset: offset, detail: "object count too large") }
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(n)
            for _ in 0..<n {
                let k = try string()
                o[k] = try json(depth: depth + 1)
            }
            return .object(o)
        case let t: throw BinaryDecodingError(offset: offset - 1, detail: "unknown JSON tag \(t)")
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
