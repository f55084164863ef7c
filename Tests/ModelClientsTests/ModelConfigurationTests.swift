import Foundation
import Testing
@testable import ModelClients

@Suite struct ModelConfigurationTests {
    @Test func defaultsAreMiniLMAndNoChatModel() throws {
        let models = try ModelConfiguration.fromEnvironment([:])
        #expect(models.embedderKind == .minilm && models.embedder == nil)
        #expect(models.chatKind == ChatModelKind.none && models.chat == nil)
    }

    @Test func hashEmbedderTakesTheDimensionSetting() throws {
        let models = try ModelConfiguration.fromEnvironment(["MEMORY_EMBEDDER": "hash", "MEMORY_EMBEDDING_DIMENSIONS": "64"])
        #expect(models.embedder?.dimension == 64 && models.embedder?.model == "hash-64")
    }

    @Test func azureOpenAIEmbedderAndChatFromSettings() throws {
        let env = [
            "MEMORY_EMBEDDER": "azure-openai", "MEMORY_LLM": "azure-openai",
            "AZURE_OPENAI_ENDPOINT": "https://myres.openai.azure.com/", "AZURE_OPENAI_API_KEY": "k",
            "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "emb", "MEMORY_EMBEDDING_MODEL": "text-embedding-3-small",
            "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4o-mini",
        ]
        let models = try ModelConfiguration.fromEnvironment(env)
        let embedder = try #require(models.embedder as? OpenAIEmbeddingClient)
        #expect(embedder.dimension == 1536 && embedder.sendDimensions == false && embedder.batchSize == 2048)
        #expect(embedder.model == "azure-openai/text-embedding-3-small@1536")
        #expect(embedder.endpoint.url(.embeddings).absoluteString
                == "https://myres.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21")
        let chat = try #require(models.chat as? OpenAIChatClient)
        #expect(chat.endpoint.url(.chatCompletions).absoluteString
                == "https://myres.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21")

        var v1 = env
        v1["AZURE_OPENAI_API_VERSION"] = "v1"
        v1["MEMORY_EMBEDDING_DIMENSIONS"] = "512"
        let v1Models = try ModelConfiguration.fromEnvironment(v1)
        let v1Embedder = try #require(v1Models.embedder as? OpenAIEmbeddingClient)
        #expect(v1Embedder.endpoint.url(.embeddings).absoluteString == "https://myres.openai.azure.com/openai/v1/embeddings")
        #expect(v1Embedder.dimension == 512 && v1Embedder.sendDimensions)
    }

    @Test func openAICompatibleSettingsWithSeparateBaseURLs() throws {
        let models = try ModelConfiguration.fromEnvironment([
            "MEMORY_EMBEDDER": "openai", "MEMORY_LLM": "openai",
            "OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_EMBEDDING_BASE_URL": "http://tei:8080/v1",
            "MEMORY_EMBEDDING_MODEL": "bge-small", "MEMORY_EMBEDDING_DIMENSIONS": "384", "MEMORY_CHAT_MODEL": "llama3.1",
        ])
        let embedder = try #require(models.embedder as? OpenAIEmbeddingClient)
        #expect(embedder.endpoint.url(.embeddings).absoluteString == "http://tei:8080/v1/embeddings")
        #expect(embedder.batchSize == 32 && !embedder.sendDimensions)
        let chat = try #require(models.chat as? OpenAIChatClient)
        #expect(chat.endpoint.url(.chatCompletions).absoluteString == "http://localhost:11434/v1/chat/completions")
        #expect(chat.model == "llama3.1")
        #expect(chat.maxOutputTokens == nil)
    }

    @Test func theChatTokenCapComesFromMemoryChatMaxTokensAndLowersEveryRequest() throws {
        let models = try ModelConfiguration.fromEnvironment([
            "MEMORY_EMBEDDER": "hash", "MEMORY_LLM": "openai", "OPENAI_CHAT_BASE_URL": "http://127.0.0.1:8081/v1",
            "MEMORY_CHAT_MODEL": "gemma3-270m", "MEMORY_CHAT_MAX_TOKENS": "256",
        ])
        #expect(try #require(models.chat as? OpenAIChatClient).maxOutputTokens == 256)
        #expect(OpenAIChatClient.tokenLimit(requested: 1500, cap: 256) == 256)
        #expect(OpenAIChatClient.tokenLimit(requested: 100, cap: 256) == 100)
        #expect(OpenAIChatClient.tokenLimit(requested: nil, cap: 256) == 256)
        #expect(OpenAIChatClient.tokenLimit(requested: 1500, cap: nil) == 1500)
        #expect(throws: ModelConfigurationError.self) {
            try ModelConfiguration.fromEnvironment(["MEMORY_EMBEDDER": "hash", "MEMORY_LLM": "openai",
                                                    "MEMORY_CHAT_MODEL": "m", "MEMORY_CHAT_MAX_TOKENS": "0"])
        }
    }

    @Test func missingAndInvalidSettingsNameTheVariable() throws {
        func failure(_ env: [String: String]) -> ModelConfigurationError? {
            do { _ = try ModelConfiguration.fromEnvironment(env); return nil } catch let e as ModelConfigurationError {
                return e
            } catch { return nil }
        }
        #expect(failure(["MEMORY_EMBEDDER": "azure-openai"])
                == .missingSetting(name: "AZURE_OPENAI_EMBEDDING_DEPLOYMENT", reason: "MEMORY_EMBEDDER is azure-openai"))
        #expect(failure(["MEMORY_EMBEDDER": "azure-openai", "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "e"])
                == .missingSetting(name: "AZURE_OPENAI_ENDPOINT", reason: "MEMORY_EMBEDDER is azure-openai"))
        if case .missingSetting(let name, _) = failure([
            "MEMORY_LLM": "azure-openai", "AZURE_OPENAI_CHAT_DEPLOYMENT": "c",
            "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"]) {
            #expect(name == "AZURE_OPENAI_API_KEY")
        } else { Issue.record("expected a missing API key") }
        if case .missingSetting(let name, _) = failure(["MEMORY_EMBEDDER": "openai", "MEMORY_EMBEDDING_MODEL": "custom"]) {
            #expect(name == "MEMORY_EMBEDDING_DIMENSIONS")
        } else { Issue.record("expected missing dimensions") }
        #expect(failure(["MEMORY_LLM": "openai"]) == .missingSetting(name: "MEMORY_CHAT_MODEL", reason: "MEMORY_LLM is openai"))
        if case .invalidSetting(let name, let value, _) = failure(["MEMORY_EMBEDDER": "bert"]) {
            #expect(name == "MEMORY_EMBEDDER" && value == "bert")
        } else { Issue.record("expected invalid MEMORY_EMBEDDER") }
        if case .invalidSetting(let name, _, _) = failure(["MEMORY_EMBEDDER": "hash", "MEMORY_EMBEDDING_DIMENSIONS": "-3"]) {
            #expect(name == "MEMORY_EMBEDDING_DIMENSIONS")
        } else { Issue.record("expected invalid dimensions") }
        if case .invalidSetting(let name, _, _) = failure([
            "MEMORY_LLM": "openai", "MEMORY_CHAT_MODEL": "m", "OPENAI_BASE_URL": "localhost:11434"]) {
            #expect(name == "OPENAI_BASE_URL")
        } else { Issue.record("expected invalid base URL") }
    }

    @Test func aTokenProviderStandsInForTheAzureKey() throws {
        let models = try ModelConfiguration.fromEnvironment(
            ["MEMORY_LLM": "azure-openai", "AZURE_OPENAI_CHAT_DEPLOYMENT": "c",
             "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"],
            tokenProvider: StaticBearerToken("t"))
        #expect(models.chat?.model == "c")
    }
}
