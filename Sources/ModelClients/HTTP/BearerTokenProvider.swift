import Foundation

/// Supplies OAuth bearer tokens (Microsoft Entra ID) for `Authorization: Bearer …`.
///
/// Implementations cache and refresh their tokens; the clients ask before every attempt. The managed-identity
/// provider of the Azure storage backend can conform to this protocol to authenticate Azure OpenAI calls
/// (resource `https://cognitiveservices.azure.com`, see ``AzureOpenAI/tokenResource``).
public protocol BearerTokenProvider: Sendable {
    /// A currently valid access token (without the `Bearer ` prefix).
    func bearerToken() async throws -> String
}

/// A fixed token: an OpenAI-compatible server's API key, or a token obtained elsewhere.
public struct StaticBearerToken: BearerTokenProvider {
    private let token: String
    public init(_ token: String) { self.token = token }
    public func bearerToken() async throws -> String { token }
}

/// How a model client authenticates.
public enum ModelAuth: Sendable {
    /// Azure OpenAI key: `api-key: <key>`.
    case apiKey(String)
    /// `Authorization: Bearer <token>` (Entra ID token, or an OpenAI-compatible server's key).
    case bearer(any BearerTokenProvider)
    /// No credentials (local servers such as Ollama).
    case none

    /// The headers to add to one request.
    func headers() async throws -> [String: String] {
        switch self {
        case .apiKey(let key): return ["api-key": key]
        case .bearer(let provider): return ["Authorization": "Bearer \(try await provider.bearerToken())"]
        case .none: return [:]
        }
    }

    /// How the auth is described in logs and errors (never the secret).
    var summary: String {
        switch self {
        case .apiKey: return "api-key"
        case .bearer: return "bearer token"
        case .none: return "no credentials"
        }
    }
}

/// Tokens from a closure, for plugging in a provider defined elsewhere (e.g. the storage backend's managed
/// identity: `ClosureBearerTokenProvider { try await identity.token(resource: AzureOpenAI.tokenResource) }`).
public struct ClosureBearerTokenProvider: BearerTokenProvider {
    private let fetch: @Sendable () async throws -> String
    public init(_ fetch: @escaping @Sendable () async throws -> String) { self.fetch = fetch }
    public func bearerToken() async throws -> String { try await fetch() }
}
