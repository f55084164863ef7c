import Foundation

/// Constants and URL helpers for Azure OpenAI.
public enum AzureOpenAI {
    /// The newest GA api-version with structured outputs (`json_schema`) and `dimensions`.
    public static let defaultAPIVersion = "2024-10-21"
    /// The `AZURE_OPENAI_API_VERSION` value that selects the `/openai/v1/...` URLs (model in the body).
    public static let v1APIVersion = "v1"
    /// Managed-identity `resource` for tokens that call Azure OpenAI with dated api-versions
    /// (scope `https://cognitiveservices.azure.com/.default`).
    public static let tokenResource = "https://cognitiveservices.azure.com"
    /// Most inputs one embeddings request may carry.
    public static let maxEmbeddingBatch = 2048

    /// The endpoint for `deployment`: the dated deployment URL, or the v1 URL when `apiVersion` is `v1`.
    public static func endpoint(_ endpoint: URL, deployment: String, apiVersion: String) -> OpenAIEndpoint {
        if apiVersion.lowercased() == v1APIVersion { return .azureV1(endpoint: endpoint) }
        return .azureDeployment(endpoint: endpoint, deployment: deployment, apiVersion: apiVersion)
    }
}
