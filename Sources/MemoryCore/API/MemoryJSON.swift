import Foundation
import MemoryStorage

/// The JSON shapes of the Mem0 platform API for memories and their history.
enum MemoryJSON {
    /// A memory item (`GET /v1/memories/{id}/`, list and search results).
    static func item(_ m: StoredMemory) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "id": .string(m.id.uuidString.lowercased()),
            "memory": .string(m.text),
            "hash": .string(m.hash),
            "metadata": m.metadata,
            "categories": .array(m.categories.map { .string($0) }),
            "user_id": optional(m.scopes.userId),
            "agent_id": optional(m.scopes.agentId),
            "app_id": optional(m.scopes.appId),
            "run_id": optional(m.scopes.runId),
            "created_at": .string(ISODates.format(m.createdAt)),
            "updated_at": .string(ISODates.format(m.updatedAt)),
            "expiration_date": m.expirationDate.map { .string(ISODates.formatDay($0)) } ?? .null,
        ]
        // `POST /v3/memories/` names the run `session_id`; send both so either reader finds it.
        o["session_id"] = optional(m.scopes.runId)
        return o
    }

    /// One history entry; `index` makes its id stable across calls.
    static func history(_ h: HistoryEntry, index: Int, owner: PartitionOwner, current: StoredMemory?) -> JSONValue {
        let scopes = current?.scopes ?? MemoryScopes()
        var userId = scopes.userId
        if userId == nil, owner.kind == .user { userId = owner.id }
        return .object([
            "id": .string(stableId(h.memoryId, index).uuidString.lowercased()),
            "memory_id": .string(h.memoryId.uuidString.lowercased()),
            "event": .string(h.event.rawValue),
            "old_memory": optional(h.oldText),
            "new_memory": optional(h.newText),
            "input": .array([]),
            "user_id": optional(userId),
            "agent_id": optional(scopes.agentId),
            "app_id": optional(scopes.appId),
            "run_id": optional(scopes.runId),
            "session_id": optional(scopes.runId),
            "categories": .array((current?.categories ?? []).map { .string($0) }),
            "metadata": current?.metadata ?? .null,
            "created_at": .string(ISODates.format(h.at)),
            "updated_at": .string(ISODates.format(h.at)),
            "event_id": .string(h.eventId.uuidString.lowercased()),
        ])
    }

    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    static func message(_ text: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var o = extra
        o["message"] = .string(text)
        return .object(o)
    }

    /// A deterministic UUID for (memory id, index): the history endpoint returns the same ids every time.
    static func stableId(_ id: UUID, _ index: Int) -> UUID {
        var bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        let i = UInt32(truncatingIfNeeded: index)
        bytes[12] ^= UInt8(i >> 24); bytes[13] ^= UInt8((i >> 16) & 0xFF)
        bytes[14] ^= UInt8((i >> 8) & 0xFF); bytes[15] ^= UInt8(i & 0xFF) ^ 0x5A
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}

extension JSONValue {
    /// Serialises with sorted keys (stable bytes for idempotent answers and tests).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    /// Parses JSON bytes; throws a 400 `invalid_json` naming the problem.
    public static func decode(_ data: Data) throws(MemoryServiceError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalid("the body is not valid JSON", code: "invalid_json")
        }
    }
}
