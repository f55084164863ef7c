import Foundation
import OutgoingHTTP

/// The `{"error": {...}}` body that Azure OpenAI and OpenAI-compatible servers send with 4xx/5xx answers.
/// Every field is optional: Azure sends `{code, message}`, OpenAI adds `type` and `param`, TEI sends
/// `{"error": "text", "error_type": ...}`.
struct OpenAIErrorBody: Sendable {
    var code: String?
    var message: String?
    var param: String?
    var type: String?

    init?(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if let text = object["error"] as? String {
            message = text
            type = object["error_type"] as? String
            return
        }
        guard let error = object["error"] as? [String: Any] else {
            if let detail = object["detail"] as? String { message = detail; return }  // vLLM/FastAPI style
            return nil
        }
        code = Self.string(error["code"])
        message = Self.string(error["message"])
        param = Self.string(error["param"])
        type = Self.string(error["type"])
    }

    private static func string(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    /// A short human-readable message from an error body, or a prefix of the raw body.
    static func message(in data: Data) -> String? {
        if let body = OpenAIErrorBody(data) {
            let parts = [body.code.map { "[\($0)]" }, body.message].compactMap { $0 }
            if !parts.isEmpty { return parts.joined(separator: " ") }
        }
        guard !data.isEmpty else { return nil }
        return String(decoding: data.prefix(300), as: UTF8.self)
    }
}

/// Maps a final non-2xx answer to a ``ModelClientError``.
enum OpenAIErrorMapping {
    static func error(for response: HTTPResponse, provider: String) -> ModelClientError {
        let body = OpenAIErrorBody(response.body)
        let message = OpenAIErrorBody.message(in: response.body) ?? "no error body"
        let requestID = response.requestID.map { " (request id \($0))" } ?? ""
        switch response.status {
        case 401, 403:
            return .unauthorized(provider: provider,
                                 detail: "HTTP \(response.status): \(message)\(requestID). Check the API key or the identity's role (Cognitive Services OpenAI User).")
        case 400 where body?.code == "content_filter":
            return .refused(provider: provider, detail: "content filter: \(body?.message ?? message)\(requestID)")
        case 404:
            return .rejected(provider: provider, status: 404,
                             detail: "\(message)\(requestID). Check the endpoint, deployment or model name (and the api-version).")
        default:
            return .rejected(provider: provider, status: response.status, detail: "\(message)\(requestID)")
        }
    }
}
