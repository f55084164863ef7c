import Foundation
import JSONModel
import MemoryStorage

/// `PUT /v1/batch/`: `{"memories":[{"memory_id", "text"?, "metadata"?, "expiration_date"?}]}`, 1 to 1000 items,
/// no repeated id; each item reads like an update body.
public struct BatchUpdateRequest: Sendable {
    public var changes: [(id: UUID, change: UpdateRequest)]

    public init(json: JSONValue) throws(MemoryServiceError) {
        var changes: [(id: UUID, change: UpdateRequest)] = []
        for (i, (id, item)) in try BatchItems.parse(json, verb: "updated").enumerated() {
            let change = try UpdateRequest(json: item)
            guard change.text != nil || change.metadata != nil || change.expiration != .unchanged else {
                throw .invalid("memories[\(i)] has nothing to update", code: "empty_update")
            }
            changes.append((id, change))
        }
        self.changes = changes
    }
}

/// `DELETE /v1/batch/`: `{"memories":[{"memory_id"}]}`, 1 to 1000 items, no repeated id.
public struct BatchDeleteRequest: Sendable {
    public var ids: [UUID]

    public init(json: JSONValue) throws(MemoryServiceError) {
        ids = try BatchItems.parse(json, verb: "deleted").map(\.0)
    }
}

/// The `memories` list both batch bodies share.
enum BatchItems {
    static func parse(_ body: JSONValue, verb: String) throws(MemoryServiceError) -> [(UUID, JSONValue)] {
        guard case .array(let items)? = body["memories"] else {
            throw .invalid("`memories` is required: an array of {memory_id, …}", code: "missing_memories")
        }
        guard (1...1000).contains(items.count) else {
            throw .invalid("between 1 and 1000 memories can be \(verb) in a single request, got \(items.count)",
                           code: "invalid_batch_size")
        }
        var seen = Set<UUID>()
        var out: [(UUID, JSONValue)] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s)? = item["memory_id"] else {
                throw .invalid("memories[\(i)].memory_id must be a string", code: "invalid_memory_id")
            }
            let id = try parseMemoryId(s)
            guard seen.insert(id).inserted else {
                throw .invalid("memories[\(i)] repeats memory_id \(s)", code: "duplicate_memory_id")
            }
            out.append((id, item))
        }
        return out
    }
}
