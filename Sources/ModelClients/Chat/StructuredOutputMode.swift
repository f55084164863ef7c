import Foundation

/// How a chat request asks the server for JSON, from the strongest guarantee to none.
///
/// Servers differ: OpenAI and recent Azure api-versions enforce a JSON schema (`json_schema`); llama.cpp,
/// llama-cpp-python and Ollama constrain output to a schema given as `response_format.schema` of a
/// `json_object` request; older Azure api-versions know only plain `json_object`; some servers know no
/// `response_format` at all. The chat client starts at ``jsonSchema`` and steps down one mode each time the
/// server says it cannot do the current one (see ``OpenAIChatClient``). Whatever the mode, the schema is also
/// spelled out in a system message below ``jsonSchema``, and the answer's JSON is checked by the caller.
public enum StructuredOutputMode: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// `response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`.
    case jsonSchema = "json_schema"
    /// `response_format: {"type": "json_object", "schema": {...}}` (the form llama.cpp servers accept).
    case jsonObjectWithSchema = "json_object+schema"
    /// `response_format: {"type": "json_object"}`.
    case jsonObject = "json_object"
    /// No `response_format`: the schema is only in the prompt and the JSON is taken out of the answer text
    /// (bare or in a fenced code block).
    case promptOnly = "prompt_only"

    /// The mode to try when the server rejects this one; nil for ``promptOnly`` (nothing weaker to ask for).
    public var fallback: StructuredOutputMode? {
        switch self {
        case .jsonSchema: return .jsonObjectWithSchema
        case .jsonObjectWithSchema: return .jsonObject
        case .jsonObject: return .promptOnly
        case .promptOnly: return nil
        }
    }

    public var description: String { rawValue }
}
