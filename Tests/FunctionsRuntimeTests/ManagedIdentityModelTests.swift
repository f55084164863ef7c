import Foundation
@testable import FunctionsRuntime
import MemoryCore
import ModelClients
import Testing

/// Azure OpenAI without `AZURE_OPENAI_API_KEY` uses the Function App's managed identity.
@Suite struct ManagedIdentityModelTests {
    let azureEmbedder = [
        "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
        "AZURE_OPENAI_EMBEDDING_DEPLOYMENT": "text-embedding-3-small",
        "MEMORY_EMBEDDING_DIMENSIONS": "1536",
    ]

    @Test func theIdentityVariablesStandInForTheKey() throws {
        var env = azureEmbedder
        env["IDENTITY_ENDPOINT"] = "http://127.0.0.1:1/msi/token"
        env["IDENTITY_HEADER"] = "secret"
        let models = try EmbedderFactory.makeModels(embedderName: "azure-openai", environment: env)
        #expect(models.embedder.model.contains("text-embedding-3-small"))
        #expect(models.embedder.dimension == 1536)
    }

    @Test func withoutKeyOrIdentityTheErrorNamesTheKey() {
        do {
            _ = try EmbedderFactory.makeModels(embedderName: "azure-openai", environment: azureEmbedder)
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.setting == "AZURE_OPENAI_API_KEY")
            #expect(error.description.contains("managed identity"))
        }
    }

    @Test func theProviderAsksForTheCognitiveServicesAudience() async throws {
        let token = try #require(ManagedIdentityBearerToken.fromEnvironment(
            ["IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": "secret", "AZURE_CLIENT_ID": "abc"],
            logger: .init(label: "test")))
        let resource = await token.provider.resource, clientId = await token.provider.clientId
        #expect(resource == AzureOpenAI.tokenResource)
        #expect(clientId == "abc")
        #expect(ManagedIdentityBearerToken.fromEnvironment([:], logger: .init(label: "test")) == nil)
    }
}
