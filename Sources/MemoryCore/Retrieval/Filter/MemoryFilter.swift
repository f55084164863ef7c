import Foundation
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

    /// Scope ids the filter pins by equality at top level (through top-level `AND`s), e.g. `user_id=alice`:
    /// every memory the filter matches carries these ids, so they name the partitions to open.
    public var pinnedScopes: MemoryScopes {
        var scopes = MemoryScopes()
        Self.collectPinned(root, into: &scopes)
        return scopes
    }

    private static func collectPinned(_ node: FilterNode, into scopes: inout MemoryScopes) {
        switch node {
        case .and(let nodes):
            for n in nodes { collectPinned(n, into: &scopes) }
        case .leaf(let leaf):
            guard case .scope(let kind) = leaf.field, case .value(.equals(.string(let id))) = leaf.test else { return }
            switch kind {
            case .user: if scopes.userId == nil { scopes.userId = id }
            case .agent: if scopes.agentId == nil { scopes.agentId = id }
            case .app: if scopes.appId == nil { scopes.appId = id }
            case .run: if scopes.runId == nil { scopes.runId = id }
            }
        default:
            return
        }
    }
}
