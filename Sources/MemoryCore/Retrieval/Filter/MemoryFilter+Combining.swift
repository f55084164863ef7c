import Foundation
import JSONModel
import MemoryStorage

/// Building filters from request fields other than `filters`, and combining parsed filters as trees.
extension MemoryFilter {
    /// Parses a request's `filters`; a bad filter is a 400 `invalid_filters` naming the operator, field or value.
    static func parseRequest(_ json: JSONValue) throws(MemoryServiceError) -> MemoryFilter {
        do {
            return try parse(json)
        } catch {
            throw .invalidFilters(error)
        }
    }

    /// Memories matching both filters.
    func and(_ other: MemoryFilter) -> MemoryFilter {
        switch (root, other.root) {
        case (.all, _): return other
        case (_, .all): return self
        case (.and(let a), .and(let b)): return MemoryFilter(root: .and(a + b))
        case (.and(let a), let b): return MemoryFilter(root: .and(a + [b]))
        default: return MemoryFilter(root: .and([root, other.root]))
        }
    }

    /// Memories tagged with any of `categories` (search's `categories` field).
    static func anyCategory(_ categories: [String]) -> MemoryFilter {
        MemoryFilter(root: .leaf(FilterLeaf(field: .categories, test: .value(.oneOf(categories.map { .string($0) })))))
    }

    /// Search's `metadata` field: each key's value a condition on that metadata key (a value is equality, an
    /// object of operators is read as in `filters`), all ANDed.
    static func metadataConditions(_ metadata: [String: JSONValue]) throws(FilterError) -> MemoryFilter {
        var parts: [FilterNode] = []
        for key in metadata.keys.sorted() {
            parts.append(try FilterParser.parseCondition(field: .metadata(key), value: metadata[key]!, at: "metadata.\(key)"))
        }
        return MemoryFilter(root: parts.count == 1 ? parts[0] : .and(parts))
    }
}

extension MemoryServiceError {
    /// The 400 for a filter that cannot be understood.
    static func invalidFilters(_ error: FilterError) -> MemoryServiceError {
        .invalid("invalid filters: \(error.message)", code: "invalid_filters")
    }
}
