import Foundation
import Logging
import MemoryStorage
import ModelClients

/// Entra ID tokens for Azure OpenAI from the Function App's managed identity, so `AZURE_OPENAI_API_KEY` can be
/// left unset in Azure. It is the storage engine's token provider (cached, refreshed five minutes before
/// expiry, one fetch shared by concurrent callers) for the Cognitive Services audience, presented as the
/// model clients' ``BearerTokenProvider``. It lives here, where storage and model clients meet, so the HTTP
/// layer needs neither the storage engine nor its identity code.
public struct ManagedIdentityBearerToken: BearerTokenProvider {
    public let provider: ManagedIdentityTokenProvider

    /// The provider the App Service identity variables (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, optional
    /// `AZURE_CLIENT_ID`) describe, or `nil` when they are absent (not running with a managed identity).
    public static func fromEnvironment(_ environment: [String: String], logger: Logger) -> ManagedIdentityBearerToken? {
        guard let provider = try? ManagedIdentityTokenProvider.fromEnvironment(
            environment, resource: AzureOpenAI.tokenResource, logger: logger)
        else { return nil }
        return ManagedIdentityBearerToken(provider: provider)
    }

    public func bearerToken() async throws -> String {
        try await provider.token().value
    }
}
