import Foundation
import JSONModel
import Logging
import OutgoingHTTP

/// Entra ID callers: bearer tokens checked by ``EntraTokenValidator`` and, behind App Service Authentication,
/// the `X-MS-CLIENT-PRINCIPAL` header; both mapped to a ``Principal`` by ``EntraPrincipalMapper``.
public struct EntraAuthentication: Sendable {
    /// Nil when only App Service Authentication is trusted (no issuers configured).
    public let validator: EntraTokenValidator?
    public let mapper: EntraPrincipalMapper

    public init(validator: EntraTokenValidator?, mapper: EntraPrincipalMapper) {
        self.validator = validator
        self.mapper = mapper
    }

    /// The Entra authentication the settings describe, or nil when they enable none.
    public static func make(_ settings: EntraSettings, transport: any HTTPTransport = AsyncHTTPTransport.shared,
                            logger: Logger) -> EntraAuthentication? {
        guard settings.acceptsTokens || settings.trustAppServiceAuth else { return nil }
        var validator: EntraTokenValidator? = nil
        if settings.acceptsTokens {
            var issuers: [String: EntraSigningKeys] = [:]
            for issuer in settings.issuers {
                guard let url = EntraSigningKeys.metadataURL(issuer: issuer) else { continue }
                issuers[issuer] = EntraSigningKeys(metadataURL: url, transport: transport,
                                                   minimumRefreshInterval: TimeInterval(settings.keyRefreshSeconds), logger: logger)
            }
            validator = EntraTokenValidator(issuers: issuers, audiences: settings.audiences)
        }
        return EntraAuthentication(validator: validator, mapper: EntraPrincipalMapper(settings: settings))
    }

    /// The principal of a bearer token; 401 (with the reason, never the token), 403 (no app role) or 503 (keys
    /// unavailable) otherwise.
    func principal(token: String) async throws(APIError) -> Principal {
        guard let validator else { throw Self.unauthorized("Entra bearer tokens are not accepted (MEMORY_ENTRA_ISSUERS is not set)") }
        let claims: [String: JSONValue]
        do {
            claims = try await validator.validate(token)
        } catch let rejection as TokenRejection {
            throw Self.unauthorized(rejection.reason)
        } catch let unavailable as EntraKeysUnavailable {
            throw APIError(status: 503, code: "identity_provider_unavailable",
                           detail: "\(unavailable); retry shortly", headers: ["Retry-After": "5"])
        } catch {
            throw Self.unauthorized("the token could not be validated")
        }
        return try map(claims)
    }

    /// The principal App Service Authentication vouches for.
    func principal(appServiceHeader header: String) throws(APIError) -> Principal {
        guard let claims = AppServicePrincipal.claims(header: header) else {
            throw Self.unauthorized("the X-MS-CLIENT-PRINCIPAL header is not base64 JSON with claims")
        }
        return try map(claims)
    }

    func map(_ claims: [String: JSONValue]) throws(APIError) -> Principal {
        do {
            return try mapper.principal(claims)
        } catch {
            switch error {
            case .unauthenticated(let reason): throw Self.unauthorized(reason)
            case .noRole(let reason): throw APIError(status: 403, code: "missing_app_role", detail: reason)
            }
        }
    }

    static func unauthorized(_ reason: String) -> APIError {
        APIError(status: 401, code: "invalid_token", detail: reason,
                 headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""])
    }
}
