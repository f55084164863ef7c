import Foundation
import JSONModel
import MemoryStorage

/// Column copies of the filterable fields of a partition's memories, so a filter is evaluated over the whole
/// partition at once into a ``RowSelection`` instead of memory by memory:
///
/// - JSON-valued fields (scope ids, categories, top-level metadata keys) are interned: each distinct value is
///   tested once and rows look their answer up, so a condition costs one pass over the rows that carry the
///   field, and a condition every row answers the same way (the partition's own `user_id`) costs nothing;
/// - dates are plain `Double` columns; text and id conditions read the memories directly.
///
/// The leaf semantics are exactly ``FilterLeaf/matches(_:)``'s (the same `FilterValueTest`/`FilterDateTest`
/// code runs), so search, list and delete agree.
struct FilterColumns: Sendable {
    /// One interned field: `rows[i]` carries value `distinct[valueIds[i]]`; rows not listed lack the field.
    struct ValueColumn: Sendable {
        var distinct: [JSONValue] = []
        var rows: [Int32] = []
        var valueIds: [Int32] = []
        var lookup: [JSONValue: Int32] = [:]

        /// Records that `row` carries `value`; returns the value's id.
        @discardableResult
        mutating func add(row: Int, value: JSONValue) -> Int32 {
            let id: Int32
            if let known = lookup[value] {
                id = known
            } else {
                id = Int32(distinct.count)
                distinct.append(value)
                lookup[value] = id
            }
            rows.append(Int32(row))
            valueIds.append(id)
            return id
        }
    }

    /// The four scope ids of one row as value ids of their columns (-1: not set), the key ``scopeKeys`` interns.
    private struct ScopeValueIds: Hashable {
        var ids: SIMD4<Int32> = SIMD4(repeating: -1)
    }

    let count: Int
    let scopes: [OwnerKind: ValueColumn]
    /// One number per row for its whole ``MemoryScopes``: two rows of these columns carry equal scopes exactly
    /// when their keys are equal (conversational context compares neighbours' scopes per search candidate;
    /// comparing four optional strings there measured as much as the BM25 side).
    let scopeKeys: [Int32]
    let categories: ValueColumn
    let metadataRoot: ValueColumn
    let metadata: [String: ValueColumn]
    let createdAt: [Double]
    let updatedAt: [Double]
    /// NaN where the memory has no expiry.
    let expiration: [Double]

    init(memories: [StoredMemory]) {
        count = memories.count
        var scopes: [OwnerKind: ValueColumn] = [:]
        var categories = ValueColumn()
        var root = ValueColumn()
        var metadata: [String: ValueColumn] = [:]
        var scopeKeys: [Int32] = []
        scopeKeys.reserveCapacity(count)
        var scopeKeyOf: [ScopeValueIds: Int32] = [:]
        var created: [Double] = [], updated: [Double] = [], expiration: [Double] = []
        created.reserveCapacity(count); updated.reserveCapacity(count); expiration.reserveCapacity(count)
        for (row, m) in memories.enumerated() {
            var scopeIds = ScopeValueIds()
            for (k, kind) in OwnerKind.allCases.enumerated() {
                if let v = FilterField.scope(kind).jsonValue(of: m) {
                    scopeIds.ids[k] = scopes[kind, default: ValueColumn()].add(row: row, value: v)
                }
            }
            if let key = scopeKeyOf[scopeIds] {
                scopeKeys.append(key)
            } else {
                let key = Int32(scopeKeyOf.count)
                scopeKeyOf[scopeIds] = key
                scopeKeys.append(key)
            }
            if let v = FilterField.categories.jsonValue(of: m) { categories.add(row: row, value: v) }
            if let v = FilterField.metadataRoot.jsonValue(of: m) { root.add(row: row, value: v) }
            if case .object(let object) = m.metadata {
                for (key, value) in object { metadata[key, default: ValueColumn()].add(row: row, value: value) }
            }
            created.append(m.createdAt.timeIntervalSince1970)
            updated.append(m.updatedAt.timeIntervalSince1970)
            expiration.append(m.expirationDate?.timeIntervalSince1970 ?? .nan)
        }
        self.scopes = scopes
        self.scopeKeys = scopeKeys
        self.categories = categories
        self.metadataRoot = root
        self.metadata = metadata
        self.createdAt = created
        self.updatedAt = updated
        self.expiration = expiration
    }

    /// The rows `node` selects. `memories` must be the array the columns were built from.
    func evaluate(_ node: FilterNode, memories: [StoredMemory]) -> RowSelection {
        switch node {
        case .all: return .all
        case .none: return .none
        case .and(let nodes):
            var result = RowSelection.all
            for n in nodes {
                result = result.intersection(evaluate(n, memories: memories))
                if case .none = result { return .none }
            }
            return result
        case .or(let nodes):
            var result = RowSelection.none
            for n in nodes {
                result = result.union(evaluate(n, memories: memories))
                if case .all = result { return .all }
            }
            return result
        case .not(let inner):
            return evaluate(inner, memories: memories).inverted()
        case .leaf(let leaf):
            return evaluate(leaf, memories: memories)
        }
    }

    private func evaluate(_ leaf: FilterLeaf, memories: [StoredMemory]) -> RowSelection {
        switch leaf.test {
        case .date(let test):
            let column: [Double]
            switch leaf.field {
            case .createdAt: column = createdAt
            case .updatedAt: column = updatedAt
            default: column = expiration
            }
            return select { test.matches(column[$0].isNaN ? nil : column[$0]) }
        case .value(let test):
            switch leaf.field {
            case .scope(let kind): return evaluate(test, on: scopes[kind] ?? ValueColumn())
            case .categories: return evaluate(test, on: categories)
            case .metadataRoot: return evaluate(test, on: metadataRoot)
            case .metadata(let key): return evaluate(test, on: metadata[key] ?? ValueColumn())
            case .text, .id, .createdAt, .updatedAt, .expirationDate:
                return select { test.matches(leaf.field.jsonValue(of: memories[$0])) }
            }
        }
    }

    private func evaluate(_ test: FilterValueTest, on column: ValueColumn) -> RowSelection {
        let missing = test.matches(nil)
        let answers = column.distinct.map { test.matches($0) }
        let everyRowHasValue = column.rows.count == count
        if answers.allSatisfy({ $0 == missing }) || (everyRowHasValue && !answers.isEmpty && answers.allSatisfy({ $0 == answers[0] })) {
            let constant = everyRowHasValue && !answers.isEmpty ? answers[0] : missing
            return constant ? .all : .none
        }
        var set = RowSet(count: count, filled: missing)
        set.assign(rows: column.rows, valueIds: column.valueIds, answers: answers)
        return .rows(set)
    }

    private func select(_ predicate: (Int) -> Bool) -> RowSelection {
        var set = RowSet(count: count, filled: false)
        var any = false, all = true
        for row in 0..<count {
            if predicate(row) { set[row] = true; any = true } else { all = false }
        }
        return all ? .all : (any ? .rows(set) : .none)
    }
}
