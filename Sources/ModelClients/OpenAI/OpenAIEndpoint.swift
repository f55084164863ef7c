import Foundation

/// Where an OpenAI-shaped API lives and how its URLs are formed.
///
/// - Azure OpenAI, dated versions: `{endpoint}/openai/deployments/{deployment}/{operation}?api-version=…`,
///   the deployment in the path and no model in the body.
/// - Azure OpenAI v1: `{endpoint}/openai/v1/{operation}`, the deployment name as `model` in the body.
/// - OpenAI-compatible servers (OpenAI, Ollama, vLLM, TEI): `{baseURL}/{operation}` where `baseURL` already
///   ends in `/v1` (the OpenAI SDK convention, e.g. `http://localhost:11434/v1`), `model` in the body.
public enum OpenAIEndpoint: Sendable, Equatable {
    case azureDeployment(endpoint: URL, deployment: String, apiVersion: String)
    case azureV1(endpoint: URL)
    case openAICompatible(baseURL: URL)

    /// The two operations the clients call.
    public enum Operation: String, Sendable {
        case embeddings = "embeddings"
        case chatCompletions = "chat/completions"
    }

    /// The full request URL of `operation`.
    public func url(_ operation: Operation) -> URL {
        switch self {
        case .azureDeployment(let endpoint, let deployment, let apiVersion):
            let escaped = deployment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"]))
                ?? deployment
            let version = apiVersion.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? apiVersion
            return URL(string: Self.trimmed(endpoint) + "/openai/deployments/\(escaped)/\(operation.rawValue)?api-version=\(version)")
                ?? endpoint
        case .azureV1(let endpoint):
            return URL(string: Self.trimmed(endpoint) + "/openai/v1/\(operation.rawValue)") ?? endpoint
        case .openAICompatible(let baseURL):
            return URL(string: Self.trimmed(baseURL) + "/\(operation.rawValue)") ?? baseURL
        }
    }

    /// Whether the request body must name the model (everything but Azure's deployment URLs).
    public var modelInBody: Bool {
        if case .azureDeployment = self { return false }
        return true
    }

    /// Whether this is Azure OpenAI (either URL style).
    public var isAzure: Bool {
        if case .openAICompatible = self { return false }
        return true
    }

    /// A description for errors and logs, e.g. `Azure OpenAI deployment 'emb' at https://x.openai.azure.com`.
    public func describe(model: String) -> String {
        switch self {
        case .azureDeployment(let endpoint, let deployment, let apiVersion):
            return "Azure OpenAI deployment '\(deployment)' at \(Self.trimmed(endpoint)) (api-version \(apiVersion))"
        case .azureV1(let endpoint):
            return "Azure OpenAI deployment '\(model)' at \(Self.trimmed(endpoint)) (v1 API)"
        case .openAICompatible(let baseURL):
            return "OpenAI-compatible model '\(model)' at \(Self.trimmed(baseURL))"
        }
    }

    private static func trimmed(_ url: URL) -> String {
        var text = url.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
