import _CryptoExtras
import Crypto
import Foundation
import JSONModel

/// Validates Entra ID (or any OpenID Connect issuer's) RS256 access tokens:
/// - the header's `alg` is `RS256` (`none`, `HS256` — even "signed" with the public key — and everything else are
///   refused before any key is looked at) and it names a `kid`;
/// - `iss` is one of the configured issuers (checked before fetching anything, so a token cannot make the service
///   fetch keys from a URL it chose);
/// - the signature (RSASSA-PKCS1-v1_5 with SHA-256) verifies with that issuer's published key `kid`;
/// - `aud` (a string or an array) contains one of the configured audiences;
/// - `exp` is present and not past, `nbf` (when present) is reached, both with `clockSkew` seconds of tolerance.
///
/// Answers the verified claims; a refusal is a ``TokenRejection`` whose reason names the failed check, never the token.
public struct EntraTokenValidator: Sendable {
    /// Signing keys by issuer (`iss` exactly as in tokens).
    public let issuers: [String: EntraSigningKeys]
    public let audiences: Set<String>
    public let clockSkew: TimeInterval
    let now: @Sendable () -> Date

    public init(issuers: [String: EntraSigningKeys], audiences: Set<String>, clockSkew: TimeInterval = 60,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.issuers = issuers
        self.audiences = audiences
        self.clockSkew = clockSkew
        self.now = now
    }

    /// The verified claims of `token`. Throws ``TokenRejection`` (401) or ``EntraKeysUnavailable`` (503).
    public func validate(_ token: String) async throws -> [String: JSONValue] {
        let jwt = try CompactJWT(token)
        guard case .string(let alg)? = jwt.header["alg"] else { throw TokenRejection("the token header has no `alg`") }
        guard alg == "RS256" else { throw TokenRejection("the token's alg '\(alg.prefix(16))' is not accepted (RS256 only)") }
        if let crit = jwt.header["crit"], !crit.isNull { throw TokenRejection("the token has critical header extensions") }
        guard case .string(let kid)? = jwt.header["kid"], !kid.isEmpty else { throw TokenRejection("the token header has no `kid`") }
        guard case .string(let issuer)? = jwt.claims["iss"] else { throw TokenRejection("the token has no `iss`") }
        guard let keys = issuers[issuer] else {
            throw TokenRejection("the token's issuer '\(issuer.prefix(120))' is not in MEMORY_ENTRA_ISSUERS")
        }
        let key = try await keys.key(id: kid)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: jwt.signature)
        guard key.isValidSignature(signature, for: SHA256.hash(data: jwt.signingInput), padding: .insecurePKCS1v1_5) else {
            throw TokenRejection("the token's signature does not verify with the issuer's key '\(kid.prefix(64))'")
        }
        let tokenAudiences: [String]
        switch jwt.claims["aud"] {
        case .string(let a)?: tokenAudiences = [a]
        case .array(let list)?: tokenAudiences = list.compactMap(\.stringValue)
        default: throw TokenRejection("the token has no `aud`")
        }
        guard tokenAudiences.contains(where: audiences.contains) else {
            throw TokenRejection("the token's audience '\(tokenAudiences.first?.prefix(120) ?? "")' is not MEMORY_ENTRA_AUDIENCE")
        }
        let current = now().timeIntervalSince1970
        guard case .number(let exp)? = jwt.claims["exp"] else { throw TokenRejection("the token has no `exp`") }
        guard current < exp + clockSkew else {
            throw TokenRejection("the token expired \(Int(current - exp)) s ago")
        }
        if let nbfValue = jwt.claims["nbf"] {
            guard case .number(let nbf) = nbfValue else { throw TokenRejection("the token's `nbf` is not a number") }
            guard current >= nbf - clockSkew else {
                throw TokenRejection("the token is not valid for another \(Int(nbf - current)) s (nbf)")
            }
        }
        return jwt.claims
    }
}
