import Foundation
import JSONModel
import MemoryStorage

/// A parsed Mem0 filter, with the same meaning in search, list and delete-by-filter.
///
/// Grammar (see `docs/retrieval.md`): `{"user_id": "alice"}` equality; `{"field": {"op": value}}` with `eq ne
/// gt gte lt lte in nin contains icontains`; `"*"` for "present"; nested `AND` / `OR` / `NOT`; sibling keys
/// ANDed. Fields: the scope ids, `created_at` / `updated_at` / `expiration_date`, `categories`, `memory` /
/// `keywords`, `id`, and metadata keys (top level or under `"metadata"`).
public struct MemoryFilter: Sendable {
    let root: FilterNode

    init(root: FilterNode) {
        self.root = root
    }

    /// Matches every memory.
    public static let all = MemoryFilter(root: .all)

    /// Parses Mem0's filter JSON. Throws a ``FilterError`` naming the bad operator, field or value.
    public static func parse(_ json: JSONValue) throws(FilterError) -> MemoryFilter {
        if json.isNull { return .all }
        return MemoryFilter(root: try FilterParser.parseObject(json, at: "filters"))
    }

    /// True when `memory` satisfies the filter. (Expiry is not part of the filter; callers hide expired
    /// memories separately.)
    public func matches(_ memory: StoredMemory) -> Bool {
        root.matches(memory)
    }

    /// True when the filter accepts everything (so callers can skip evaluating it).
    public var isAll: Bool {
        if case .all = root { return true }
        return false
    }
}
