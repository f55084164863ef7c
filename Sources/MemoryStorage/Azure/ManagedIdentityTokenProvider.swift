import Foundation
import Logging
import OutgoingHTTP

/// Fetches and caches OAuth access tokens from the App Service / Functions managed identity endpoint
/// (`IDENTITY_ENDPOINT` with the `X-IDENTITY-HEADER` secret, api-version 2019-08-01), for Bearer auth to Blob.
///
/// A token is reused until `refreshMargin` (5 minutes) before its `expires_on`, then fetched again; concurrent
/// callers share one fetch.
public actor ManagedIdentityTokenProvider {
    /// A token and when it expires.
    public struct AccessToken: Sendable, Equatable {
        public var value: String
        public var expiresOn: Date
    }

    /// Failures to get a token. Messages say what to check.
    public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
        case requestFailed(String)
        case badResponse(String)

        public var description: String {
            switch self {
            case .requestFailed(let m): return "managed identity token request failed: \(m)"
            case .badResponse(let m): return "managed identity endpoint gave an unusable answer: \(m)"
            }
        }
    }

    public let endpoint: URL
    private let secret: String
    public let resource: String
    public let clientId: String?
    public let refreshMargin: TimeInterval
    private let transport: any HTTPTransport
    private let logger: Logger
    private let now: @Sendable () -> Date
    private var cached: AccessToken?
    private var inFlight: Task<AccessToken, Error>?

    /// - Parameters:
    ///   - endpoint: `IDENTITY_ENDPOINT`.
    ///   - secret: `IDENTITY_HEADER`, sent as `X-IDENTITY-HEADER`.
    ///   - resource: the audience; `https://storage.azure.com/` for Blob.
    ///   - clientId: a user-assigned identity's client id, or `nil` for the system-assigned one.
    public init(endpoint: URL, secret: String, resource: String = "https://storage.azure.com/",
                clientId: String? = nil, refreshMargin: TimeInterval = 300,
                transport: any HTTPTransport = AsyncHTTPTransport.shared,
                logger: Logger = Logger(label: "memory.storage.azure.identity"),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.endpoint = endpoint
        self.secret = secret
        self.resource = resource
        self.clientId = clientId
        self.refreshMargin = refreshMargin
        self.transport = transport
        self.logger = logger
        self.now = now
    }

    /// Reads `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and (optionally) `AZURE_CLIENT_ID` from `environment`, for
    /// tokens of audience `resource` (Blob by default).
    /// - Throws: ``AzureSettingsError/managedIdentityUnavailable(reason:)`` when the variables are missing.
    public static func fromEnvironment(_ environment: [String: String], resource: String = "https://storage.azure.com/",
                                       transport: any HTTPTransport = AsyncHTTPTransport.shared,
                                       logger: Logger) throws -> ManagedIdentityTokenProvider {
        guard let raw = environment["IDENTITY_ENDPOINT"], !raw.isEmpty else {
            throw AzureSettingsError.managedIdentityUnavailable(reason: "IDENTITY_ENDPOINT is not set")
        }
        guard let url = URL(string: raw), url.scheme != nil else {
            throw AzureSettingsError.managedIdentityUnavailable(reason: "IDENTITY_ENDPOINT '\(raw)' is not a URL")
        }
        guard let secret = environment["IDENTITY_HEADER"], !secret.isEmpty else {
            throw AzureSettingsError.managedIdentityUnavailable(reason: "IDENTITY_HEADER is not set")
        }
        let clientId = environment["AZURE_CLIENT_ID"].flatMap { $0.isEmpty ? nil : $0 }
        return ManagedIdentityTokenProvider(endpoint: url, secret: secret, resource: resource, clientId: clientId,
                                            transport: transport, logger: logger)
    }

    /// A valid access token, from the cache or freshly fetched.
    public func token() async throws -> AccessToken {
        if let cached, cached.expiresOn.timeIntervalSince(now()) > refreshMargin { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.fetch() }
        inFlight = task
        defer { inFlight = nil }
        let token = try await task.value
        cached = token
        return token
    }

    /// Forgets the cached token (Blob answered 401 to it: revoked, or the clocks disagree), so the next
    /// ``token()`` fetches a new one.
    public func invalidate(_ token: String) {
        if cached?.value == token { cached = nil }
    }

    private func fetch() async throws -> AccessToken {
        guard var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) else {
            throw TokenError.requestFailed("IDENTITY_ENDPOINT '\(endpoint)' is not a URL")
        }
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: "resource", value: resource))
        items.append(URLQueryItem(name: "api-version", value: "2019-08-01"))
        if let clientId { items.append(URLQueryItem(name: "client_id", value: clientId)) }
        components.queryItems = items
        guard let url = components.url else { throw TokenError.requestFailed("cannot build the token URL") }
        let request = HTTPRequest(method: "GET", url: url, headers: ["X-IDENTITY-HEADER": secret,
                                                                     "Accept": "application/json"], timeout: 30)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            throw TokenError.requestFailed("\(endpoint.host ?? "?"): \(error)")
        }
        let data = response.body
        guard response.status == 200 else {
            let text = String(decoding: data.prefix(300), as: UTF8.self)
            throw TokenError.requestFailed("HTTP \(response.status) from the identity endpoint: \(text) (check that "
                + "the identity exists and, for a user-assigned one, that AZURE_CLIENT_ID is its client id)")
        }
        struct Body: Decodable {
            var access_token: String
            var expires_on: String
        }
        guard let body = try? JSONDecoder().decode(Body.self, from: data), !body.access_token.isEmpty else {
            throw TokenError.badResponse("no access_token / expires_on in the JSON")
        }
        guard let epoch = TimeInterval(body.expires_on) else {
            throw TokenError.badResponse("expires_on '\(body.expires_on)' is not epoch seconds (use api-version 2019-08-01)")
        }
        let token = AccessToken(value: body.access_token, expiresOn: Date(timeIntervalSince1970: epoch))
        logger.debug("fetched managed identity token", metadata: ["resource": "\(resource)",
                                                                  "expires_on": "\(body.expires_on)"])
        return token
    }
}
