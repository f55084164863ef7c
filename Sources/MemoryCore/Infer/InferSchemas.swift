import Foundation

/// The JSON schemas of the two model calls (strict structured output: every property required,
/// no additional properties), and the Swift shapes of the answers.
enum InferSchemas {
    static let factsName = "memory_facts"
    static let facts = Data("""
        {"type":"object","properties":{"facts":{"type":"array","items":{"type":"string"}}},\
        "required":["facts"],"additionalProperties":false}
        """.utf8)

    static let decisionsName = "memory_decisions"
    static let decisions = Data("""
        {"type":"object","properties":{"decisions":{"type":"array","items":{"type":"object","properties":{\
        "event":{"type":"string","enum":["ADD","UPDATE","DELETE","NONE"]},\
        "id":{"type":"string"},"text":{"type":"string"}},\
        "required":["event","id","text"],"additionalProperties":false}}},\
        "required":["decisions"],"additionalProperties":false}
        """.utf8)

    struct FactsAnswer: Decodable {
        var facts: [String]
    }

    struct DecisionsAnswer: Decodable {
        struct Decision: Decodable {
            var event: String
            /// Optional when decoding so that a json_object-mode answer that omits it is still usable.
            var id: String?
            var text: String?
        }
        var decisions: [Decision]
    }
}
