import Foundation
import Logging
import MemoryCore
import ModelClients

/// Builds the embedder named by `MEMORY_EMBEDDER` and the chat model named by `MEMORY_LLM`. The single place
/// where model names meet the runtime: `minilm` loads the in-process encoder, the others are built by
/// ``ModelConfiguration`` from their provider settings (`docs/models.md`). The in-process MiniLM loads in the
/// background (``BackgroundLoadedEmbedder``) behind a ``CoalescingEmbedder``; its matrix backend comes from
/// `MEMORY_MINILM_BACKEND` (`docs/minilm.md`).
public enum EmbedderFactory {
    /// The names `MEMORY_EMBEDDER` accepts.
    public static let names = EmbedderKind.allCases.map(\.rawValue)

    /// Used when `MEMORY_EMBEDDER` is unset: real semantic search with no network and no API bill.
    public static let defaultName = EmbedderKind.minilm.rawValue

    /// The embedder called `name`, configured from `environment`.
    public static func make(name: String, environment: [String: String]) throws(ConfigurationError) -> any Embedder {
        try makeModels(embedderName: name, environment: environment).embedder
    }

    /// The embedder called `embedderName` and the chat model `MEMORY_LLM` names (nil for `none`).
    public static func makeModels(embedderName: String, environment: [String: String])
        throws(ConfigurationError) -> (embedder: any Embedder, chat: (any ChatModel)?)
    {
        var env = environment
        env["MEMORY_EMBEDDER"] = embedderName.lowercased()
        let models: ConfiguredModels
        do {
            // Without AZURE_OPENAI_API_KEY, Azure OpenAI is called with the Function App's managed identity.
            let identity = ManagedIdentityBearerToken.fromEnvironment(env, logger: Logger(label: "memory.models.identity"))
            models = try ModelConfiguration.fromEnvironment(env, tokenProvider: identity)
        } catch let error as ModelConfigurationError {
            throw ConfigurationError(setting: error.settingName, problem: error.description)
        } catch {
            throw ConfigurationError(setting: "MEMORY_EMBEDDER", problem: "\(error)")
        }
        if let embedder = models.embedder { return (embedder, models.chat) }
        let backend: MiniLMMatrixBackend
        do {
            backend = try MiniLMEmbedder.backend(environment: env)
        } catch {
            throw ConfigurationError(setting: MiniLMMatrixBackend.setting, problem: "\(error)")
        }
        let directory = MiniLMEmbedder.modelDirectory(environment: env)
        do {
            try MiniLMEmbedder.checkConfiguration(modelDirectory: directory, matrixBackend: backend)
        } catch {
            throw ConfigurationError(setting: "MEMORY_MINILM_PATH", problem: "\(error)")
        }
        // The model loads while the handler binds and reads the first request's partition; concurrent requests
        // (e.g. several clients adding at once) share one encoder pass.
        let minilm = BackgroundLoadedEmbedder(model: MiniLMEmbedder.modelName, dimension: MiniLMEmbedder.outputDimension) {
            try MiniLMEmbedder(modelDirectory: directory, matrixBackend: backend)
        }
        return (CoalescingEmbedder(minilm), models.chat)
    }
}
