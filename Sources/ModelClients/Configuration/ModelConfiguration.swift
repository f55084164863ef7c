import Foundation
import Logging
import OutgoingHTTP

/// Which embedder the settings ask for.
public enum EmbedderKind: String, Sendable, CaseIterable {
    /// The in-process MiniLM encoder (built by the service, not here).
    case minilm
    case azureOpenAI = "azure-openai"
    case openAI = "openai"
    case hash
}

/// Which chat model the settings ask for (for `infer=true`).
public enum ChatModelKind: String, Sendable, CaseIterable {
    case azureOpenAI = "azure-openai"
    case openAI = "openai"
    case none
}

/// The models built from the settings.
public struct ConfiguredModels: Sendable {
    public var embedderKind: EmbedderKind
    /// Nil when ``embedderKind`` is `.minilm`: the caller builds the in-process encoder.
    public var embedder: (any Embedder)?
    public var chatKind: ChatModelKind
    /// Nil when ``chatKind`` is `.none`: `infer=true` then stores messages verbatim with dedup.
    public var chat: (any ChatModel)?
}

/// Builds the embedder and chat model from environment variables (Function App settings).
/// Every variable is listed with its default in `docs/models.md`.
public enum ModelConfiguration {
    /// Reads the settings in `env` and builds the configured clients. Throws ``ModelConfigurationError``
    /// naming the variable when a required setting is missing or invalid.
    ///
    /// - Parameters:
    ///   - tokenProvider: Entra ID tokens for Azure OpenAI when `AZURE_OPENAI_API_KEY` is not set (e.g. a
    ///     managed-identity provider for resource ``AzureOpenAI/tokenResource``).
    ///   - transport: the HTTP transport (tests may pass their own).
    public static func fromEnvironment(
        _ env: [String: String], tokenProvider: (any BearerTokenProvider)? = nil,
        transport: any HTTPTransport = AsyncHTTPTransport.shared, logger: Logger = Logger(label: "ModelClients")
    ) throws -> ConfiguredModels {
        let settings = Settings(env)
        let retry = try settings.retryPolicy()
        let timeout = try settings.positiveDouble("MEMORY_MODEL_TIMEOUT_SECONDS") ?? 60

        let embedderKind = try settings.choice("MEMORY_EMBEDDER", default: EmbedderKind.minilm)
        let embedder: (any Embedder)?
        switch embedderKind {
        case .minilm:
            embedder = nil
        case .hash:
            embedder = HashingEmbedder(dimension: try settings.positiveInt("MEMORY_EMBEDDING_DIMENSIONS") ?? 384)
        case .azureOpenAI:
            let because = "MEMORY_EMBEDDER is azure-openai"
            let deployment = try settings.required("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", because: because)
            let endpoint = try settings.azureEndpoint(apiVersion: settings.azureAPIVersion, deployment: deployment,
                                                      because: because)
            let modelName = settings["MEMORY_EMBEDDING_MODEL"] ?? deployment
            let dimension = try settings.embeddingDimension(model: modelName, because: because)
            embedder = OpenAIEmbeddingClient(
                endpoint: endpoint, auth: try settings.azureAuth(tokenProvider: tokenProvider, because: because),
                requestModel: deployment, dimension: dimension,
                sendDimensions: try settings.bool("MEMORY_EMBEDDING_SEND_DIMENSIONS")
                    ?? (settings["MEMORY_EMBEDDING_DIMENSIONS"] != nil),
                batchSize: min(AzureOpenAI.maxEmbeddingBatch,
                               try settings.positiveInt("MEMORY_EMBEDDING_BATCH_SIZE") ?? AzureOpenAI.maxEmbeddingBatch),
                modelName: "azure-openai/\(modelName)@\(dimension)",
                transport: transport, retry: retry, timeout: timeout, logger: logger)
        case .openAI:
            let because = "MEMORY_EMBEDDER is openai"
            let model = try settings.required("MEMORY_EMBEDDING_MODEL", because: because)
            let dimension = try settings.embeddingDimension(model: model, because: because)
            embedder = OpenAIEmbeddingClient(
                endpoint: .openAICompatible(baseURL: try settings.openAIBaseURL("OPENAI_EMBEDDING_BASE_URL")),
                auth: settings.openAIAuth, requestModel: model, dimension: dimension,
                sendDimensions: try settings.bool("MEMORY_EMBEDDING_SEND_DIMENSIONS") ?? false,
                batchSize: try settings.positiveInt("MEMORY_EMBEDDING_BATCH_SIZE") ?? 32,
                modelName: "openai/\(model)@\(dimension)",
                transport: transport, retry: retry, timeout: timeout, logger: logger)
        }

        let chatKind = try settings.choice("MEMORY_LLM", default: ChatModelKind.none)
        let chat: (any ChatModel)?
        let tokenField = try settings.tokenField()
        let chatTimeout = try settings.positiveDouble("MEMORY_CHAT_TIMEOUT_SECONDS") ?? max(timeout, 120)
        let chatMaxTokens = try settings.positiveInt("MEMORY_CHAT_MAX_TOKENS")
        switch chatKind {
        case .none:
            chat = nil
        case .azureOpenAI:
            let because = "MEMORY_LLM is azure-openai"
            let deployment = try settings.required("AZURE_OPENAI_CHAT_DEPLOYMENT", because: because)
            chat = OpenAIChatClient(
                endpoint: try settings.azureEndpoint(apiVersion: settings.azureAPIVersion, deployment: deployment,
                                                     because: because),
                auth: try settings.azureAuth(tokenProvider: tokenProvider, because: because),
                model: deployment, maxTokensField: tokenField, maxOutputTokens: chatMaxTokens, transport: transport,
                retry: retry, timeout: chatTimeout, logger: logger)
        case .openAI:
            let because = "MEMORY_LLM is openai"
            chat = OpenAIChatClient(
                endpoint: .openAICompatible(baseURL: try settings.openAIBaseURL("OPENAI_CHAT_BASE_URL")),
                auth: settings.openAIAuth, model: try settings.required("MEMORY_CHAT_MODEL", because: because),
                maxTokensField: tokenField, maxOutputTokens: chatMaxTokens, transport: transport, retry: retry,
                timeout: chatTimeout, logger: logger)
        }
        return ConfiguredModels(embedderKind: embedderKind, embedder: embedder, chatKind: chatKind, chat: chat)
    }

    /// Vector sizes of the OpenAI embedding models whose size is fixed or well known, used when
    /// `MEMORY_EMBEDDING_DIMENSIONS` is not set.
    public static let knownEmbeddingDimensions: [String: Int] = [
        "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536,
        "nomic-embed-text": 768, "mxbai-embed-large": 1024, "all-minilm": 384,
    ]
}

/// Typed access to the settings with errors that name the variable.
private struct Settings {
    let env: [String: String]
    init(_ env: [String: String]) { self.env = env }

    /// A set, non-blank value (trimmed).
    subscript(_ name: String) -> String? {
        guard let value = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func required(_ name: String, because: String) throws -> String {
        guard let value = self[name] else { throw ModelConfigurationError.missingSetting(name: name, reason: because) }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, default value: T) throws -> T
        where T.RawValue == String
    {
        guard let text = self[name] else { return value }
        guard let parsed = T(rawValue: text.lowercased()) else {
            throw ModelConfigurationError.invalidSetting(
                name: name, value: text, expected: "one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return parsed
    }

    func positiveInt(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), value > 0 else {
            throw ModelConfigurationError.invalidSetting(name: name, value: text, expected: "a positive integer")
        }
        return value
    }

    func positiveDouble(_ name: String) throws -> Double? {
        guard let text = self[name] else { return nil }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw ModelConfigurationError.invalidSetting(name: name, value: text, expected: "a positive number of seconds")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = self[name]?.lowercased() else { return nil }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ModelConfigurationError.invalidSetting(name: name, value: text, expected: "true or false")
        }
    }

    func url(_ name: String, because: String) throws -> URL {
        let text = try required(name, because: because)
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil else {
            throw ModelConfigurationError.invalidSetting(name: name, value: text, expected: "an http(s) URL")
        }
        return url
    }

    var azureAPIVersion: String { self["AZURE_OPENAI_API_VERSION"] ?? AzureOpenAI.defaultAPIVersion }

    func azureEndpoint(apiVersion: String, deployment: String, because: String) throws -> OpenAIEndpoint {
        AzureOpenAI.endpoint(try url("AZURE_OPENAI_ENDPOINT", because: because), deployment: deployment,
                             apiVersion: apiVersion)
    }

    func azureAuth(tokenProvider: (any BearerTokenProvider)?, because: String) throws -> ModelAuth {
        if let key = self["AZURE_OPENAI_API_KEY"] { return .apiKey(key) }
        if let tokenProvider { return .bearer(tokenProvider) }
        throw ModelConfigurationError.missingSetting(
            name: "AZURE_OPENAI_API_KEY",
            reason: "\(because) and no managed identity token provider is available (set the key, or run with a managed identity)")
    }

    /// `OPENAI_EMBEDDING_BASE_URL` / `OPENAI_CHAT_BASE_URL`, else `OPENAI_BASE_URL`, else OpenAI's own API.
    func openAIBaseURL(_ specific: String) throws -> URL {
        let name = self[specific] != nil ? specific : "OPENAI_BASE_URL"
        guard self[name] != nil else {
            guard let url = URL(string: "https://api.openai.com/v1") else {
                throw ModelConfigurationError.missingSetting(name: name, reason: "no default base URL")
            }
            return url
        }
        return try url(name, because: "it is set")
    }

    var openAIAuth: ModelAuth {
        self["OPENAI_API_KEY"].map { .bearer(StaticBearerToken($0)) } ?? .none
    }

    func embeddingDimension(model: String, because: String) throws -> Int {
        if let value = try positiveInt("MEMORY_EMBEDDING_DIMENSIONS") { return value }
        if let known = ModelConfiguration.knownEmbeddingDimensions[model.lowercased()] { return known }
        throw ModelConfigurationError.missingSetting(
            name: "MEMORY_EMBEDDING_DIMENSIONS",
            reason: "\(because) and the vector size of model '\(model)' is not known (set MEMORY_EMBEDDING_MODEL to the underlying model name or give the size)")
    }

    func tokenField() throws -> String {
        guard let text = self["MEMORY_CHAT_TOKEN_LIMIT_FIELD"] else { return "max_tokens" }
        guard text == "max_tokens" || text == "max_completion_tokens" else {
            throw ModelConfigurationError.invalidSetting(name: "MEMORY_CHAT_TOKEN_LIMIT_FIELD", value: text,
                                                         expected: "max_tokens or max_completion_tokens")
        }
        return text
    }

    func retryPolicy() throws -> RetryPolicy {
        RetryPolicy(maxAttempts: try positiveInt("MEMORY_MODEL_MAX_ATTEMPTS") ?? 4,
                    maxTotalWait: try positiveDouble("MEMORY_MODEL_MAX_RETRY_WAIT_SECONDS") ?? 30)
    }
}
