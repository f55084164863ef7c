import Foundation
import OutgoingHTTP

/// Recognises an error answer that means "this server cannot produce the structured output you asked for",
/// as opposed to a problem with the prompt, the credentials or the server's health.
///
/// Servers say it in many ways: Azure answers 400 "response_format value as json_schema is enabled only for
/// api versions …"; vLLM and FastAPI-based servers 400/422 with a validation error whose location names
/// `response_format`; llama-cpp-python's server answers **500** with a validation error naming
/// `response_format`. So any 4xx or 5xx whose body names `response_format`, `json_schema`, `json_object` or
/// `schema` counts, except the answers that mean something else: 401/403 (credentials), 404 (wrong
/// deployment or model), 408/429 (retry later), and Azure's 400 `content_filter`.
enum ResponseFormatRejection {
    /// Words whose presence in an error body marks a structured-output rejection (matched lower-cased).
    static let markers = ["response_format", "json_schema", "json_object", "schema"]

    /// Statuses that never mean a structured-output rejection, whatever their body says.
    static let otherMeanings: Set<Int> = [401, 403, 404, 408, 429]

    static func isRejection(_ response: HTTPResponse) -> Bool {
        guard (400...599).contains(response.status), !otherMeanings.contains(response.status) else { return false }
        if OpenAIErrorBody(response.body)?.code == "content_filter" { return false }
        let text = String(decoding: response.body.prefix(8000), as: UTF8.self).lowercased()
        return markers.contains { text.contains($0) }
    }
}
