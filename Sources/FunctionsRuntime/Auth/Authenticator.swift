import Foundation
import Hummingbird

/// Resolves a request's credential to a ``Principal``.
///
/// Credentials: `Authorization: Token <key>` (what the mem0ai SDK sends), `Authorization: Bearer <key or token>`
/// and `X-API-Key: <key>`. A bearer credential shaped like a JWT goes to Entra validation when it is configured;
/// anything else is looked up as an API key. Behind App Service Authentication (`MEMORY_TRUST_APP_SERVICE_AUTH`)
/// a request carrying `X-MS-CLIENT-PRINCIPAL` is the principal that header describes. With no keys and no Entra
/// settings every request is the `default` tenant with the admin role.
public struct Authenticator: Sendable {
    public let keys: APIKeyTable
    public let entra: EntraAuthentication?

    public init(keys: APIKeyTable, entra: EntraAuthentication? = nil) {
        self.keys = keys
        self.entra = entra
    }

    /// True when no credential is needed (the local run).
    public var isOpen: Bool { keys.isOpen && entra == nil }

    /// The principal, or a 401 ``APIError`` when a credential is required and missing or not valid (403 for an
    /// Entra caller without an app role, 503 when the token issuer's keys cannot be fetched). The error's detail
    /// says why (for the log line's `cause` too) and never quotes the credential.
    public func authenticate(_ headers: HTTPFields) async throws(APIError) -> Principal {
        if isOpen { return Principal(tenant: APIKeyTable.defaultTenant, role: .admin) }
        // Easy Auth validated the caller's token already and strips this header from clients' requests.
        if let entra, entra.mapper.settings.trustAppServiceAuth, let header = headers[.appServicePrincipal] {
            return try entra.principal(appServiceHeader: header)
        }
        guard let credential = Self.presentedKey(headers) else {
            throw APIError(status: .unauthorized, code: "missing_api_key",
                           detail: "send an API key as 'Authorization: Token <key>', 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
                               + (entra?.validator != nil ? ", or an Entra ID access token as 'Authorization: Bearer <token>'" : ""),
                           headers: ["WWW-Authenticate": "Token"])
        }
        if let entra, entra.validator != nil, CompactJWT.looksLikeJWT(credential) {
            return try await entra.principal(token: credential)
        }
        guard let principal = keys.principal(forKey: credential) else {
            throw APIError(status: .unauthorized, code: "invalid_api_key",
                           detail: "the API key is not known to this service (check MEMORY_API_KEYS holds its SHA-256)",
                           headers: ["WWW-Authenticate": "Token"])
        }
        return principal
    }

    /// The key a request carries, if any.
    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let auth = headers[.authorization] {
            let trimmed = auth.trimmingCharacters(in: .whitespaces)
            for scheme in ["token ", "bearer "] where trimmed.lowercased().hasPrefix(scheme) {
                let key = trimmed.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces)
                if !key.isEmpty { return key }
            }
        }
        if let key = headers[.apiKey]?.trimmingCharacters(in: .whitespaces), !key.isEmpty { return key }
        return nil
    }
}
