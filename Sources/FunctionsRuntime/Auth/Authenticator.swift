import Foundation
import Hummingbird

/// Resolves a request's API key to a ``Principal``.
///
/// Accepts `Authorization: Token <key>` (what the mem0ai SDK sends), `Authorization: Bearer <key>` and
/// `X-API-Key: <key>`. With no keys configured every request is the `default` tenant with the admin role.
public struct Authenticator: Sendable {
    public let keys: APIKeyTable

    public init(keys: APIKeyTable) {
        self.keys = keys
    }

    /// The principal, or a 401 ``APIError`` when a key is required and missing or unknown.
    public func authenticate(_ headers: HTTPFields) throws(APIError) -> Principal {
        if keys.isOpen { return Principal(tenant: APIKeyTable.defaultTenant, role: .admin) }
        guard let key = Self.presentedKey(headers) else {
            throw APIError(status: .unauthorized, code: "missing_api_key",
                           detail: "send an API key as 'Authorization: Token <key>', 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                           headers: ["WWW-Authenticate": "Token"])
        }
        guard let principal = keys.principal(forKey: key) else {
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
