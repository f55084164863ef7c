import Foundation

/// The JSON schemas of the two model calls (strict structured output: every property required,
/// no additional properties). Every answer is checked against them (``JSONSchemaCheck``) whatever output mode
/// the chat client negotiated.
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

    /// One decision of the reconciliation answer, after ``InferAnswerRepair`` and the schema check.
    struct Decision: Sendable, Equatable {
        var event: String
        /// The temporary id shown to the model ("" for ADD).
        var id: String?
        var text: String?
    }
}
