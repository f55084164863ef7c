import Foundation
import JSONModel
import MemoryStorage

/// Checks a JSON value against a JSON schema, for the subset the infer schemas use: `type` (object, array,
/// string, number, integer, boolean, null), `properties`, `required`, `additionalProperties: false`, `items`
/// and `enum`. Other keywords are ignored, so a schema using them is checked less strictly, never wrongly.
///
/// The model's answer is checked with it whatever output mode produced it: a server that enforced the schema
/// passes trivially; `json_object` and prompt-only answers are caught here before anything is applied.
struct JSONSchemaCheck {
    let schema: JSONValue

    /// Parses a serialized schema (the `InferSchemas` constants); nil when it is not JSON.
    init?(_ data: Data) {
        guard let schema = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        self.schema = schema
    }

    /// The first problems found (each naming the path, e.g. `decisions[2].text`), empty when `value` fits.
    func problems(_ value: JSONValue, limit: Int = 5) -> [String] {
        var found: [String] = []
        Self.check(value, schema, path: "answer", into: &found, limit: limit)
        return found
    }

    private static func check(_ value: JSONValue, _ schema: JSONValue, path: String, into found: inout [String],
                              limit: Int) {
        guard found.count < limit, case .object(let rules) = schema else { return }
        if let type = rules["type"]?.stringValue, !matches(value, type: type) {
            found.append("\(path) is \(describe(value)), the schema wants \(type == "array" || type == "object" ? "an" : "a") \(type)")
            return
        }
        if let allowed = rules["enum"]?.arrayValue, !allowed.contains(value) {
            // Enum values are keywords (events), not memory text; the echo is capped all the same.
            let shown = value.stringValue.map { "\"\($0.prefix(24))\"" } ?? describe(value)
            found.append("\(path) is \(shown), not one of \(allowed.compactMap(\.stringValue))")
        }
        switch value {
        case .object(let members):
            let properties = rules["properties"]?.objectValue ?? [:]
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append("\(path).\(name) is missing")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[name] {
                    check(member, sub, path: "\(path).\(name)", into: &found, limit: limit)
                } else if rules["additionalProperties"] == .bool(false) {
                    found.append("\(path).\(name) is not a field of the schema")
                }
            }
        case .array(let items):
            guard let itemSchema = rules["items"] else { return }
            for (index, item) in items.enumerated() {
                check(item, itemSchema, path: "\(path)[\(index)]", into: &found, limit: limit)
            }
        default:
            return
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
             ("number", .number):
            return true
        case ("integer", .number(let d)):
            return d.rounded() == d
        default:
            return false
        }
    }

    /// The kind of a value, for messages (never its content: answers may carry memory text).
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
