import Foundation
import JSONModel
import MemoryStorage

/// Turns Mem0's filter JSON into a ``FilterNode``. Every rejection names what was wrong.
enum FilterParser {
    static let comparisonOperators: Set<String> = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains"]

    /// A filter object: sibling keys are ANDed.
    static func parseObject(_ json: JSONValue, at path: String) throws(FilterError) -> FilterNode {
        guard case .object(let object) = json else {
            throw FilterError("\(path) must be a JSON object, got \(describe(json))")
        }
        var parts: [FilterNode] = []
        for key in object.keys.sorted() {
            let value = object[key]!
            parts.append(try parseEntry(key: key, value: value, at: path))
        }
        return simplifyAnd(parts)
    }

    private static func parseEntry(key: String, value: JSONValue, at path: String) throws(FilterError) -> FilterNode {
        switch key {
        case "AND", "OR":
            let items = try logicalItems(value, op: key, at: path)
            let nodes = try parseList(items, op: key, at: path)
            return key == "AND" ? simplifyAnd(nodes) : .or(nodes)
        case "NOT":
            // NOT [a, b] is "none of a, b match"; NOT {…} negates the object (its keys ANDed).
            let items = try logicalItems(value, op: key, at: path)
            let nodes = try parseList(items, op: key, at: path)
            return .not(nodes.count == 1 ? nodes[0] : .or(nodes))
        case "metadata":
            if value.stringValue == "*" { return .leaf(FilterLeaf(field: .metadataRoot, test: .value(.present))) }
            guard case .object(let inner) = value else {
                throw FilterError("\(path).metadata must be an object of metadata keys (or \"*\"), got \(describe(value))")
            }
            var parts: [FilterNode] = []
            for k in inner.keys.sorted() {
                parts.append(try parseCondition(field: .metadata(k), value: inner[k]!, at: "\(path).metadata.\(k)"))
            }
            return simplifyAnd(parts)
        default:
            if comparisonOperators.contains(key) {
                throw FilterError("operator \"\(key)\" at \(path) must be inside a field, e.g. {\"created_at\": {\"\(key)\": …}}")
            }
            return try parseCondition(field: field(named: key), value: value, at: "\(path).\(key)", name: key)
        }
    }

    private static func logicalItems(_ value: JSONValue, op: String, at path: String) throws(FilterError) -> [JSONValue] {
        switch value {
        case .array(let items): return items
        case .object: return [value]
        default: throw FilterError("\(op) at \(path) takes a list of filter objects, got \(describe(value))")
        }
    }

    private static func parseList(_ items: [JSONValue], op: String, at path: String) throws(FilterError) -> [FilterNode] {
        var nodes: [FilterNode] = []
        for (i, item) in items.enumerated() {
            nodes.append(try parseObject(item, at: "\(path).\(op)[\(i)]"))
        }
        return nodes
    }

    static func field(named name: String) -> FilterField {
        switch name {
        case "user_id": return .scope(.user)
        case "agent_id": return .scope(.agent)
        case "app_id": return .scope(.app)
        case "run_id", "session_id": return .scope(.run)
        case "created_at", "timestamp": return .createdAt
        case "updated_at": return .updatedAt
        case "expiration_date": return .expirationDate
        case "categories": return .categories
        case "memory", "text", "keywords": return .text
        case "id", "memory_id", "memory_ids": return .id
        default: return .metadata(name)
        }
    }

    /// `field: value` — a bare value (equality, `*`, a list for `memory_ids`) or an object of operators.
    static func parseCondition(field: FilterField, value: JSONValue, at path: String, name: String = "") throws(FilterError) -> FilterNode {
        if case .object(let ops) = value {
            guard !ops.isEmpty else { throw FilterError("\(path) has an empty operator object") }
            var parts: [FilterNode] = []
            for op in ops.keys.sorted() {
                guard comparisonOperators.contains(op) else {
                    let known = comparisonOperators.sorted().joined(separator: ", ")
                    throw FilterError("unknown operator \"\(op)\" at \(path) (known: \(known), and \"*\" as a value)")
                }
                parts.append(try parseOperator(op, operand: ops[op]!, field: field, at: path))
            }
            return simplifyAnd(parts)
        }
        if value.stringValue == "*" { return try parseOperator("*", operand: value, field: field, at: path) }
        if name == "keywords" { return try parseOperator("icontains", operand: value, field: field, at: path) }
        if name == "memory_ids", value.arrayValue != nil { return try parseOperator("in", operand: value, field: field, at: path) }
        return try parseOperator("eq", operand: value, field: field, at: path)
    }

    private static func parseOperator(_ op: String, operand: JSONValue, field: FilterField, at path: String) throws(FilterError) -> FilterNode {
        if op == "*" {
            return .leaf(FilterLeaf(field: field, test: field.isDate ? .date(.present) : .value(.present)))
        }
        if field.isDate { return try parseDateOperator(op, operand: operand, field: field, at: path) }
        let operand = field == .id ? lowercasedStrings(operand) : operand
        func leaf(_ t: FilterValueTest) -> FilterNode { .leaf(FilterLeaf(field: field, test: .value(t))) }
        switch op {
        case "eq": return leaf(.equals(operand))
        case "ne": return .not(leaf(.equals(operand)))
        case "in", "nin":
            guard case .array(let list) = operand else {
                throw FilterError("operator \"\(op)\" at \(path) takes a list, got \(describe(operand))")
            }
            return op == "in" ? leaf(.oneOf(list)) : .not(leaf(.oneOf(list)))
        case "gt": return leaf(.greater(operand, orEqual: false))
        case "gte": return leaf(.greater(operand, orEqual: true))
        case "lt": return leaf(.less(operand, orEqual: false))
        case "lte": return leaf(.less(operand, orEqual: true))
        case "contains":
            if operand.isNull || operand.arrayValue != nil || operand.objectValue != nil {
                throw FilterError("operator \"contains\" at \(path) takes a string or a scalar, got \(describe(operand))")
            }
            return leaf(.contains(operand))
        case "icontains":
            guard case .string(let s) = operand else {
                throw FilterError("operator \"icontains\" at \(path) takes a string, got \(describe(operand))")
            }
            return leaf(.containsIgnoringCase(s.lowercased()))
        default:
            throw FilterError("unknown operator \"\(op)\" at \(path)")
        }
    }

    private static func parseDateOperator(_ op: String, operand: JSONValue, field: FilterField, at path: String) throws(FilterError) -> FilterNode {
        func leaf(_ t: FilterDateTest) -> FilterNode { .leaf(FilterLeaf(field: field, test: .date(t))) }
        func interval(_ v: JSONValue) throws(FilterError) -> FilterDateInterval {
            guard let i = FilterDateInterval.parse(v) else {
                throw FilterError("\(path) needs an ISO-8601 date (YYYY-MM-DD), date-time or Unix epoch number, got \(describe(v))")
            }
            return i
        }
        switch op {
        case "eq", "ne":
            // `expiration_date: null` asks for memories without an expiry.
            let node = operand.isNull ? FilterNode.not(leaf(.present)) : leaf(.within([try interval(operand)]))
            return op == "eq" ? node : .not(node)
        case "in", "nin":
            guard case .array(let list) = operand else {
                throw FilterError("operator \"\(op)\" at \(path) takes a list, got \(describe(operand))")
            }
            var intervals: [FilterDateInterval] = []
            for v in list { intervals.append(try interval(v)) }
            return op == "in" ? leaf(.within(intervals)) : .not(leaf(.within(intervals)))
        case "gt": return leaf(.after(try interval(operand)))
        case "gte": return leaf(.atOrAfter(try interval(operand)))
        case "lt": return leaf(.before(try interval(operand)))
        case "lte": return leaf(.atOrBefore(try interval(operand)))
        default:
            throw FilterError("operator \"\(op)\" does not apply to the date field \(field) at \(path) (use eq, ne, gt, gte, lt, lte, in, nin or \"*\")")
        }
    }

    private static func lowercasedStrings(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(s.lowercased())
        case .array(let a): return .array(a.map(lowercasedStrings))
        default: return v
        }
    }

    private static func simplifyAnd(_ nodes: [FilterNode]) -> FilterNode {
        nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return d.rounded() == d && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)"
        case .string(let s): return "\"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
