import Foundation
import MemoryStorage

/// Which scope ids every memory a filter can match must carry: what decides the partitions a search, list,
/// export or delete opens (the scope directory turns agent, app and run ids into partitions).
public enum ScopeTargets: Sendable, Equatable {
    /// Every matching memory carries all the ids of at least one of these sets (an empty list: nothing can
    /// match, e.g. `user_id` equal to two different values).
    case anyOf([MemoryScopes])
    /// `"*"` on a scope id with nothing narrower: any partition of the tenant may hold a match.
    case everything
    /// No scope id is pinned: the filter alone does not say where to look.
    case unscoped
}

extension MemoryFilter {
    /// At most this many alternative scope sets are derived from `OR`s, `in` lists and their combinations;
    /// beyond it a conjunction keeps only its narrowest side (still a correct, larger, set of partitions).
    static let maxScopeAlternatives = 1000

    /// The scope ids the filter pins: equality (`{"user_id": "a"}`, `{"eq": …}`), `in` lists and `OR`s of
    /// pinned branches, through `AND`s at any depth. `NOT` pins nothing.
    public var scopeTargets: ScopeTargets {
        Self.targets(root)
    }

    private static func targets(_ node: FilterNode) -> ScopeTargets {
        switch node {
        case .all, .not:
            return .unscoped
        case .none:
            return .anyOf([])
        case .leaf(let leaf):
            guard case .scope(let kind) = leaf.field, case .value(let test) = leaf.test else { return .unscoped }
            switch test {
            case .equals(.string(let id)):
                return .anyOf([pin(kind, id)])
            case .oneOf(let values):
                let ids = values.compactMap(\.stringValue)
                return ids.count == values.count ? .anyOf(ids.map { pin(kind, $0) }) : .unscoped
            case .present:
                return .everything
            default:
                return .unscoped
            }
        case .or(let nodes):
            var alternatives: [MemoryScopes] = []
            var everything = false
            for n in nodes {
                switch targets(n) {
                case .unscoped: return .unscoped
                case .everything: everything = true
                case .anyOf(let list): alternatives += list
                }
            }
            return everything ? .everything : .anyOf(alternatives)
        case .and(let nodes):
            var combined: [MemoryScopes]? = nil
            var everything = false
            for n in nodes {
                switch targets(n) {
                case .unscoped: continue
                case .everything: everything = true
                case .anyOf(let list):
                    guard let current = combined else {
                        combined = list
                        continue
                    }
                    if current.count * list.count <= maxScopeAlternatives {
                        combined = current.flatMap { a in list.compactMap { b in merge(a, b) } }
                    } else if list.count < current.count {
                        combined = list
                    }
                }
            }
            if let combined { return .anyOf(combined) }
            return everything ? .everything : .unscoped
        }
    }

    private static func pin(_ kind: OwnerKind, _ id: String) -> MemoryScopes {
        var s = MemoryScopes()
        s[kind] = id
        return s
    }

    /// Both sets of ids at once, or nil when they disagree on a kind (no memory carries both).
    private static func merge(_ a: MemoryScopes, _ b: MemoryScopes) -> MemoryScopes? {
        var out = a
        for kind in OwnerKind.allCases {
            guard let id = b[kind] else { continue }
            if let mine = out[kind], mine != id { return nil }
            out[kind] = id
        }
        return out
    }
}
