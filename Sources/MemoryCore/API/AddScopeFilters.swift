import Foundation
import JSONModel
import MemoryStorage

extension AddRequest {
    /// The scope ids of an add: those at the top level of the body and those in `filters` (how agent
    /// frameworks call the SDK: `add(messages, filters={"user_id": …, "agent_id": …})`).
    ///
    /// `filters` may hold only the four scope ids, each as a string or `{"eq": string}`, optionally inside `AND`
    /// lists. The same id named twice with different values is a 400 naming both; `"*"` (a wildcard in reads) is
    /// no id a memory can carry.
    static func scopes(top: MemoryScopes, filters: [String: JSONValue]?) throws(MemoryServiceError) -> MemoryScopes {
        var scopes = top
        var origin: [OwnerKind: String] = [:]
        for kind in OwnerKind.allCases where top[kind] != nil { origin[kind] = "at the top level" }
        if let filters { try collect(filters, at: "filters", into: &scopes, origin: &origin) }
        for kind in OwnerKind.allCases where scopes[kind] == "*" {
            throw .invalid("`\(kind.rawValue)_id` cannot be \"*\" in an add: \"*\" means any id in filters, not an id a memory can carry",
                           code: "invalid_field")
        }
        return scopes
    }

    private static func collect(_ object: [String: JSONValue], at path: String, into scopes: inout MemoryScopes,
                                origin: inout [OwnerKind: String]) throws(MemoryServiceError) {
        for key in object.keys.sorted() {
            let value = object[key]!
            if key == "AND" {
                guard case .array(let items) = value else {
                    throw .invalid("`\(path).AND` must be a list of objects", code: "invalid_filters")
                }
                for (i, item) in items.enumerated() {
                    guard case .object(let inner) = item else {
                        throw .invalid("`\(path).AND[\(i)]` must be an object", code: "invalid_filters")
                    }
                    try collect(inner, at: "\(path).AND[\(i)]", into: &scopes, origin: &origin)
                }
                continue
            }
            guard let kind = OwnerKind.allCases.first(where: { "\($0.rawValue)_id" == key }) else {
                throw .invalid("an add's `filters` may name only user_id, agent_id, app_id and run_id (by equality); "
                                   + "`\(path).\(key.prefix(40))` is not one", code: "invalid_filters")
            }
            var operand = value
            if case .object(let ops) = value {
                guard ops.count == 1, let eq = ops["eq"] else {
                    throw .invalid("`\(path).\(key)` must be an id or {\"eq\": id}: an add stores one id per scope",
                                   code: "invalid_filters")
                }
                operand = eq
            }
            guard let id = try FieldReader(.object([key: operand]), context: "add").scopeId(key) else {
                throw .invalid("`\(path).\(key)` must be a non-empty string", code: "invalid_filters")
            }
            let here = "in \(path)"
            if let existing = scopes[kind], existing != id {
                throw .invalid("`\(key)` is '\(existing.prefix(64))' \(origin[kind] ?? "") and '\(id.prefix(64))' \(here); "
                                   + "send one value", code: "conflicting_entity_id")
            }
            scopes[kind] = id
            origin[kind] = origin[kind] ?? here
        }
    }
}
