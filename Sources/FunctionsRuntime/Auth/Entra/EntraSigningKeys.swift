import _CryptoExtras
import Foundation
import JSONModel
import Logging
import OutgoingHTTP

/// The signing keys of one token issuer: found through its OpenID metadata (`{issuer}/.well-known/openid-configuration`
/// → `jwks_uri`), fetched with the project's outgoing HTTP client, cached by `kid`.
///
/// A token signed with a `kid` not in the cache refetches the keys (Entra rolls its keys), at most once per
/// `minimumRefreshInterval`, so a stream of tokens with made-up `kid`s cannot turn into a stream of fetches.
/// Concurrent lookups share one fetch. The keys are also refetched when older than `maximumAge`.
public actor EntraSigningKeys {
    public let metadataURL: URL
    let transport: any HTTPTransport
    let minimumRefreshInterval: TimeInterval
    let maximumAge: TimeInterval
    let now: @Sendable () -> Date
    let logger: Logger

    private var keys: [String: _RSA.Signing.PublicKey] = [:]
    private var fetchedAt: Date?
    private var attemptedAt: Date?
    private var inflight: Task<[String: _RSA.Signing.PublicKey], any Error>?

    public init(metadataURL: URL, transport: any HTTPTransport = AsyncHTTPTransport.shared,
                minimumRefreshInterval: TimeInterval = 300, maximumAge: TimeInterval = 86_400,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.metadataURL = metadataURL
        self.transport = transport
        self.minimumRefreshInterval = minimumRefreshInterval
        self.maximumAge = maximumAge
        self.now = now
        self.logger = logger
    }

    /// The metadata URL of an issuer: `{issuer}/.well-known/openid-configuration`.
    public static func metadataURL(issuer: String) -> URL? {
        let trimmed = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        return URL(string: trimmed + "/.well-known/openid-configuration")
    }

    /// The key with id `kid`. Throws ``TokenRejection`` for an unknown `kid` (after the refresh the rate limit
    /// allows) and ``EntraKeysUnavailable`` when the keys cannot be fetched at all.
    public func key(id kid: String) async throws -> _RSA.Signing.PublicKey {
        let current = now()
        let stale = fetchedAt.map { current.timeIntervalSince($0) >= maximumAge } ?? true
        if !stale, let key = keys[kid] { return key }
        // With no keys at all (a failed first fetch), retry sooner: every token is refused until it works.
        let interval = keys.isEmpty ? min(minimumRefreshInterval, 5) : minimumRefreshInterval
        let mayRefresh = attemptedAt.map { current.timeIntervalSince($0) >= interval } ?? true
        if mayRefresh || inflight != nil {
            try await refresh(reason: keys[kid] == nil ? "unknown kid" : "keys older than the maximum age")
        } else if keys.isEmpty {
            throw EntraKeysUnavailable(detail: "the last fetch from \(metadataURL.absoluteString) failed; retrying shortly")
        }
        guard let key = keys[kid] else {
            throw TokenRejection("the token is signed with key id '\(kid.prefix(64))', which the issuer does not publish")
        }
        return key
    }

    /// Fetches the keys once (joining a fetch already under way).
    private func refresh(reason: String) async throws {
        if let inflight {
            keys = try await inflight.value
            return
        }
        attemptedAt = now()
        let (url, transport, logger) = (metadataURL, transport, logger)
        let task = Task { try await Self.fetch(metadataURL: url, transport: transport, logger: logger) }
        inflight = task
        defer { inflight = nil }
        do {
            keys = try await task.value
            fetchedAt = now()
            logger.info("entra signing keys fetched", metadata: [
                "metadata_url": .string(url.absoluteString), "keys": .stringConvertible(keys.count), "reason": .string(reason),
            ])
        } catch {
            logger.error("entra signing keys could not be fetched", metadata: [
                "metadata_url": .string(url.absoluteString), "error": .string("\(error)"),
            ])
            if keys.isEmpty { throw error }
        }
    }

    static func fetch(metadataURL: URL, transport: any HTTPTransport, logger: Logger) async throws
        -> [String: _RSA.Signing.PublicKey]
    {
        let metadata = try await getJSON(metadataURL, transport: transport)
        guard case .string(let jwksString)? = metadata["jwks_uri"], let jwksURL = URL(string: jwksString),
              ["https", "http"].contains(jwksURL.scheme?.lowercased() ?? "") else {
            throw EntraKeysUnavailable(detail: "the OpenID metadata at \(metadataURL.absoluteString) has no usable jwks_uri")
        }
        let jwks = try await getJSON(jwksURL, transport: transport)
        guard case .array(let entries)? = jwks["keys"] else {
            throw EntraKeysUnavailable(detail: "the JWKS at \(jwksURL.absoluteString) has no `keys` array")
        }
        var keys: [String: _RSA.Signing.PublicKey] = [:]
        for entry in entries {
            guard entry["kty"]?.stringValue == "RSA", case .string(let kid)? = entry["kid"],
                  entry["use"].map({ $0.stringValue == "sig" }) ?? true,
                  entry["alg"].map({ $0.stringValue == "RS256" }) ?? true,
                  let n = entry["n"]?.stringValue.flatMap({ CompactJWT.base64URLDecode(Substring($0)) }),
                  let e = entry["e"]?.stringValue.flatMap({ CompactJWT.base64URLDecode(Substring($0)) }),
                  let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048
            else { continue }
            keys[kid] = key
        }
        if keys.isEmpty { logger.warning("the JWKS has no RS256 signing key of 2048 bits or more", metadata: ["jwks_uri": .string(jwksString)]) }
        return keys
    }

    static func getJSON(_ url: URL, transport: any HTTPTransport) async throws -> JSONValue {
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: ["Accept": "application/json"], timeout: 10))
        } catch {
            throw EntraKeysUnavailable(detail: "GET \(url.absoluteString): \(error)")
        }
        guard response.status == 200 else {
            throw EntraKeysUnavailable(detail: "GET \(url.absoluteString) answered \(response.status)")
        }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: response.body) else {
            throw EntraKeysUnavailable(detail: "GET \(url.absoluteString) did not answer JSON")
        }
        return json
    }
}

/// The issuer's signing keys could not be fetched (network, metadata or JWKS broken): the service's problem, not
/// the caller's, so it is a 503, never a 401.
public struct EntraKeysUnavailable: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public var description: String { "the token issuer's signing keys are unavailable: \(detail)" }
}
