import Foundation
import JSONModel
import MemoryStorage

/// The parsed form of a filter: a boolean tree whose leaves test one field. Negative operators (`ne`, `nin`)
/// are stored as `not` over their positive twin, so "ne is exactly NOT eq" holds by construction.
indirect enum FilterNode: Sendable {
    case all
    case none
    case and([FilterNode])
    case or([FilterNode])
    case not(FilterNode)
    case leaf(FilterLeaf)

    /// Evaluates the tree on one memory.
    func matches(_ memory: StoredMemory) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .and(let nodes): return nodes.allSatisfy { $0.matches(memory) }
        case .or(let nodes): return nodes.contains { $0.matches(memory) }
        case .not(let node): return !node.matches(memory)
        case .leaf(let leaf): return leaf.matches(memory)
        }
    }
}

/// One positive test on one field.
struct FilterLeaf: Sendable {
    var field: FilterField
    var test: FilterTest

    func matches(_ memory: StoredMemory) -> Bool {
        switch test {
        case .date(let dateTest): return dateTest.matches(field.dateValue(of: memory))
        case .value(let valueTest): return valueTest.matches(field.jsonValue(of: memory))
        }
    }
}

enum FilterTest: Sendable {
    case value(FilterValueTest)
    case date(FilterDateTest)
}

/// A positive test on a date field's instant (seconds since 1970, `nil` when absent).
enum FilterDateTest: Sendable {
    case present
    /// Inside any of the intervals (`eq` is a one-element `in`).
    case within([FilterDateInterval])
    case after(FilterDateInterval)          // gt: at or after the interval's end
    case atOrAfter(FilterDateInterval)      // gte: at or after its start
    case before(FilterDateInterval)         // lt: before its start
    case atOrBefore(FilterDateInterval)     // lte: before its end

    func matches(_ t: Double?) -> Bool {
        guard let t else { return false }
        switch self {
        case .present: return true
        case .within(let intervals): return intervals.contains { t >= $0.lower && t < $0.upper }
        case .after(let i): return t >= i.upper
        case .atOrAfter(let i): return t >= i.lower
        case .before(let i): return t < i.lower
        case .atOrBefore(let i): return t < i.upper
        }
    }
}

/// A positive test on a JSON-valued field (`nil` when absent). Rules, shared by search, list and delete:
/// - an array value matches when any element matches (`eq`, `in`, `gt`…, `contains`, `icontains`);
/// - `eq null` matches an absent or null field; `*` (present) matches a field that is there and not null;
/// - numbers compare by value; strings compare as instants when both parse as ISO dates, otherwise by
///   Unicode order; any other pairing of types (a number against a string, a bool against anything ordered)
///   is simply no match — never an error, never a crash.
enum FilterValueTest: Sendable {
    case present
    case equals(JSONValue)
    case oneOf([JSONValue])
    case greater(JSONValue, orEqual: Bool)
    case less(JSONValue, orEqual: Bool)
    /// Substring of a string, or (on an array) an element that contains it / equals it.
    case contains(JSONValue)
    /// Case-insensitive substring; the needle is stored lower-cased.
    case containsIgnoringCase(String)

    func matches(_ stored: JSONValue?) -> Bool {
        switch self {
        case .present:
            guard let stored, !stored.isNull else { return false }
            return true
        case .equals(let v):
            if v.isNull { return stored?.isNull ?? true }
            guard let stored else { return false }
            return Self.anyElement(stored, v) { Self.jsonEqual($0, $1) }
        case .oneOf(let list):
            return list.contains { FilterValueTest.equals($0).matches(stored) }
        case .greater(let v, let orEqual):
            guard let stored else { return false }
            return Self.anyElement(stored, v) { a, b in
                guard let c = Self.compare(a, b) else { return false }
                return orEqual ? c >= 0 : c > 0
            }
        case .less(let v, let orEqual):
            guard let stored else { return false }
            return Self.anyElement(stored, v) { a, b in
                guard let c = Self.compare(a, b) else { return false }
                return orEqual ? c <= 0 : c < 0
            }
        case .contains(let v):
            guard let stored else { return false }
            return Self.anyElement(stored, v) { a, b in
                if case .string(let s) = a, case .string(let needle) = b { return s.contains(needle) }
                return Self.jsonEqual(a, b)
            }
        case .containsIgnoringCase(let needle):
            guard let stored else { return false }
            return Self.anyElement(stored, .string(needle)) { a, _ in
                if case .string(let s) = a { return s.lowercased().contains(needle) }
                return false
            }
        }
    }

    /// Applies `test` to the value itself, or — when the stored value is an array and the operand is not —
    /// to each element.
    private static func anyElement(
        _ stored: JSONValue, _ operand: JSONValue, _ test: (JSONValue, JSONValue) -> Bool
    ) -> Bool {
        if test(stored, operand) { return true }
        if case .array(let elements) = stored, operand.arrayValue == nil {
            return elements.contains { test($0, operand) }
        }
        return false
    }

    static func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        a == b
    }

    /// -1, 0, 1, or `nil` when the two values have no order between them.
    static func compare(_ a: JSONValue, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            guard !x.isNaN, !y.isNaN else { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.string(let x), .string(let y)):
            if let dx = FilterDateInterval.parse(string: x), let dy = FilterDateInterval.parse(string: y) {
                return dx.lower < dy.lower ? -1 : (dx.lower > dy.lower ? 1 : 0)
            }
            return x < y ? -1 : (x > y ? 1 : 0)
        default:
            return nil
        }
    }
}
