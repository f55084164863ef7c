import Foundation
import JSONModel
import MemoryStorage

/// Fixed rules that bring a model's JSON answer into the shape of its step's schema, or reject it whole.
///
/// Small and locally served models, asked without a server-enforced schema, drift in predictable ways. Each
/// drift that has one obvious meaning is repaired; everything else rejects the whole answer, so nothing is
/// applied half-way. The repaired answer is then checked against the schema (``JSONSchemaCheck``).
///
/// Repaired (facts): fields other than `facts` are dropped; a single fact given as a string becomes a
/// one-element list; `null` entries are dropped.
/// Repaired (decisions): fields other than `decisions` and, per decision, other than `event`, `id` and `text`
/// are dropped; a single decision object becomes a one-element list; `event` is trimmed and upper-cased; an
/// integer `id` (`0` for `"0"`) becomes its decimal text; a missing or `null` `id` or `text` becomes `""` (ADD
/// needs no id, DELETE and NONE no text; ``InferDecisionMapping`` drops decisions that still lack what they need).
/// Rejected: a missing `facts`/`decisions` list, a number, boolean, object or list where a fact, an event,
/// an id or a text belongs, a decision that is not an object, an event outside ADD/UPDATE/DELETE/NONE.
enum InferAnswerRepair {
    /// The facts answer repaired to `{"facts": [string]}`.
    static func facts(_ answer: JSONValue) throws(InferError) -> JSONValue {
        let stage = InferStage.extraction
        guard case .object(let fields) = answer, let facts = fields["facts"] else {
            throw .malformedAnswer(stage: stage, detail: "the answer has no \"facts\" list")
        }
        let items: [JSONValue]
        switch facts {
        case .array(let list): items = list
        case .string: items = [facts]
        default:
            throw .malformedAnswer(stage: stage, detail: "answer.facts is \(JSONSchemaCheck.describe(facts)), not a list of strings")
        }
        var kept: [JSONValue] = []
        for (index, item) in items.enumerated() {
            switch item {
            case .string: kept.append(item)
            case .null: continue
            default:
                throw .malformedAnswer(stage: stage, detail: "answer.facts[\(index)] is \(JSONSchemaCheck.describe(item)), not a string")
            }
        }
        return .object(["facts": .array(kept)])
    }

    /// The decisions answer repaired to `{"decisions": [{"event", "id", "text"}]}`.
    static func decisions(_ answer: JSONValue) throws(InferError) -> JSONValue {
        let stage = InferStage.decision
        guard case .object(let fields) = answer, let decisions = fields["decisions"] else {
            throw .malformedAnswer(stage: stage, detail: "the answer has no \"decisions\" list")
        }
        let items: [JSONValue]
        switch decisions {
        case .array(let list): items = list
        case .object: items = [decisions]
        default:
            throw .malformedAnswer(stage: stage, detail: "answer.decisions is \(JSONSchemaCheck.describe(decisions)), not a list of objects")
        }
        var repaired: [JSONValue] = []
        for (index, item) in items.enumerated() {
            let path = "answer.decisions[\(index)]"
            guard case .object(let decision) = item else {
                throw .malformedAnswer(stage: stage, detail: "\(path) is \(JSONSchemaCheck.describe(item)), not an object")
            }
            guard case .string(let event)? = decision["event"] else {
                throw .malformedAnswer(stage: stage, detail: "\(path).event is \(decision["event"].map(JSONSchemaCheck.describe) ?? "missing"), not a string")
            }
            repaired.append(.object([
                "event": .string(event.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()),
                "id": .string(try id(decision["id"], path: "\(path).id")),
                "text": .string(try text(decision["text"], path: "\(path).text")),
            ]))
        }
        return .object(["decisions": .array(repaired)])
    }

    /// A shown id: text as is, a whole number as its decimal text, missing or null as "".
    private static func id(_ value: JSONValue?, path: String) throws(InferError) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .number(let number)? where number.rounded() == number && abs(number) < 1e15:
            return String(Int64(number))
        case let other?:
            throw .malformedAnswer(stage: .decision, detail: "\(path) is \(JSONSchemaCheck.describe(other)), not a memory id")
        }
    }

    /// A memory text: a string as is, missing or null as "".
    private static func text(_ value: JSONValue?, path: String) throws(InferError) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case let other?:
            throw .malformedAnswer(stage: .decision, detail: "\(path) is \(JSONSchemaCheck.describe(other)), not a string")
        }
    }
}
