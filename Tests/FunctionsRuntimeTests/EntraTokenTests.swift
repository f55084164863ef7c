import _CryptoExtras
import Crypto
import Foundation
@testable import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import JSONModel
import Logging
import MemoryStorage
import Testing

/// Entra ID token validation against a JWKS served on loopback by ``LoopbackIssuer``.
@Suite struct EntraTokenTests {
    static let audience = "api://agentmemory"
    static let tid = "11111111-aaaa-bbbb-cccc-000000000001"

    static func claims(_ issuer: String, _ overrides: [String: JSONValue] = [:]) -> [String: JSONValue] {
        let now = Date().timeIntervalSince1970
        var c: [String: JSONValue] = [
            "iss": .string(issuer), "aud": .string(audience), "tid": .string(tid), "oid": .string("object-1"),
            "roles": .array([.string("Memory.Write")]), "iat": .number(now - 10), "nbf": .number(now - 10),
            "exp": .number(now + 3600),
        ]
        for (k, v) in overrides { c[k] = v }
        return c
    }

    static func settings(_ issuer: String, userClaim: String? = nil) -> EntraSettings {
        EntraSettings(issuers: [issuer], audiences: [audience], tenantsByTid: [tid: "acme"], userClaim: userClaim)
    }

    /// Runs `body` with an issuer serving keys `published` (of `kids`) and an authentication built for it.
    static func withIssuer(kids: [String] = ["k1"], published: [String] = ["k1"], refreshSeconds: TimeInterval = 0,
                           userClaim: String? = nil,
                           _ body: @escaping @Sendable (LoopbackIssuer, String, EntraAuthentication) async throws -> Void) async throws {
        let issuerServer = try LoopbackIssuer(kids: kids, published: published)
        try await issuerServer.application().test(.live) { client in
            let issuer = LoopbackIssuer.issuer(port: try #require(client.port))
            let keys = EntraSigningKeys(metadataURL: EntraSigningKeys.metadataURL(issuer: issuer)!,
                                        minimumRefreshInterval: refreshSeconds, logger: Logger(label: "test"))
            let validator = EntraTokenValidator(issuers: [issuer: keys], audiences: [audience])
            let auth = EntraAuthentication(validator: validator,
                                           mapper: EntraPrincipalMapper(settings: settings(issuer, userClaim: userClaim)))
            try await body(issuerServer, issuer, auth)
        }
    }

    /// The 401/403 reason of a refused token (nil when it was accepted).
    static func refusal(_ auth: EntraAuthentication, _ token: String) async -> APIError? {
        do {
            _ = try await auth.principal(token: token)
            return nil
        } catch {
            return error
        }
    }

    @Test func goodTokenMapsTenantAndRole() async throws {
        try await Self.withIssuer { issuer, iss, auth in
            let token = try issuer.token(kid: "k1", claims: Self.claims(iss))
            #expect(try await auth.principal(token: token) == Principal(tenant: "acme", role: .write))
            let admin = try issuer.token(kid: "k1", claims: Self.claims(iss, ["roles": .array([.string("Memory.Read"), .string("Memory.Admin")])]))
            #expect(try await auth.principal(token: admin).role == .admin)
            let audienceList = try issuer.token(kid: "k1", claims: Self.claims(iss, ["aud": .array([.string("other"), .string(Self.audience)])]))
            #expect(try await auth.principal(token: audienceList).tenant == "acme")
            // Expired 30 s ago: inside the 60 s clock skew.
            let justExpired = try issuer.token(kid: "k1", claims: Self.claims(iss, ["exp": .number(Date().timeIntervalSince1970 - 30)]))
            #expect(try await auth.principal(token: justExpired).tenant == "acme")
        }
    }

    @Test func refusedTokens() async throws {
        try await Self.withIssuer { issuer, iss, auth in
            let now = Date().timeIntervalSince1970
            func expectRefused(_ token: String, _ fragment: String, status: Int = 401, sourceLocation: SourceLocation = #_sourceLocation) async {
                let error = await Self.refusal(auth, token)
                #expect(error.map { Int($0.status.code) } == status, sourceLocation: sourceLocation)
                #expect(error?.detail.contains(fragment) == true, "\(error?.detail ?? "accepted")", sourceLocation: sourceLocation)
                #expect(error?.detail.contains(token) != true, sourceLocation: sourceLocation)
            }
            await expectRefused(LoopbackIssuer.unsignedToken(header: ["alg": .string("none"), "kid": .string("k1")],
                                                             claims: Self.claims(iss)), "alg 'none'")
            // HS256 "signed" with the public key (the classic algorithm-confusion attack).
            let publicPEM = Data(issuer.keys["k1"]!.publicKey.pemRepresentation.utf8)
            let hs256 = LoopbackIssuer.unsignedToken(header: ["alg": .string("HS256"), "kid": .string("k1")], claims: Self.claims(iss)) {
                Data(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: publicPEM)))
            }
            await expectRefused(hs256, "alg 'HS256'")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["exp": .number(now - 120)])), "expired")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["nbf": .number(now + 300)])), "nbf")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["aud": .string("api://someone-else")])), "audience")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["iss": .string("https://evil.example/v2.0")])), "issuer")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["tid": .string("22222222-0000-0000-0000-000000000000")])),
                                "MEMORY_ENTRA_TENANTS")
            await expectRefused(try issuer.token(kid: "k1", claims: Self.claims(iss, ["roles": .array([])])), "app roles", status: 403)
            var noExp = Self.claims(iss)
            noExp["exp"] = nil
            await expectRefused(try issuer.token(kid: "k1", claims: noExp), "exp")
            // A valid signature over other claims: the payload swapped after signing.
            let good = try issuer.token(kid: "k1", claims: Self.claims(iss)).split(separator: ".")
            let forged = LoopbackIssuer.unsignedToken(header: [:], claims: Self.claims(iss, ["roles": .array([.string("Memory.Admin")])]))
                .split(separator: ".")
            await expectRefused("\(good[0]).\(forged[1]).\(good[2])", "signature")
            await expectRefused("not.a.jwt", "base64url")
        }
    }

    @Test func unknownKidRefetchesTheKeysOnce() async throws {
        try await Self.withIssuer(kids: ["k1", "k2"], published: ["k1"], refreshSeconds: 0) { issuer, iss, auth in
            #expect(try await auth.principal(token: try issuer.token(kid: "k1", claims: Self.claims(iss))).tenant == "acme")
            #expect(issuer.jwksFetches == 1)
            // Cached: no fetch for a known kid.
            _ = try await auth.principal(token: try issuer.token(kid: "k1", claims: Self.claims(iss)))
            #expect(issuer.jwksFetches == 1)
            // The issuer rolls its keys: a token signed with the new key makes the service refetch.
            issuer.publish(["k1", "k2"])
            #expect(try await auth.principal(token: try issuer.token(kid: "k2", claims: Self.claims(iss))).tenant == "acme")
            #expect(issuer.jwksFetches == 2)
        }
    }

    @Test func unknownKidRefreshIsRateLimited() async throws {
        try await Self.withIssuer(kids: ["k1", "k2"], published: ["k1"], refreshSeconds: 3600) { issuer, iss, auth in
            _ = try await auth.principal(token: try issuer.token(kid: "k1", claims: Self.claims(iss)))
            #expect(issuer.jwksFetches == 1)
            for _ in 0..<5 {
                let error = await Self.refusal(auth, try issuer.token(kid: "k2", claims: Self.claims(iss)))
                #expect(error?.status == 401)
                #expect(error?.detail.contains("key id") == true)
            }
            #expect(issuer.jwksFetches == 1)
        }
    }

    @Test func userTokensAreBoundAppTokensAreNot() async throws {
        try await Self.withIssuer(userClaim: "oid") { issuer, iss, auth in
            let user = try issuer.token(kid: "k1", claims: Self.claims(iss, ["scp": .string("Memory.Access"), "oid": .string("user-42")]))
            #expect(try await auth.principal(token: user).boundUserId == "user-42")
            let app = try issuer.token(kid: "k1", claims: Self.claims(iss, ["oid": .string("managed-identity-1")]))
            #expect(try await auth.principal(token: app).boundUserId == nil)
            var missing = Self.claims(iss, ["scp": .string("Memory.Access")])
            missing["oid"] = nil
            #expect(await Self.refusal(auth, try issuer.token(kid: "k1", claims: missing))?.status == 401)
        }
    }

    @Test func bearerTokensOnTheRoutesAndTheLogNeverHoldsThem() async throws {
        let issuerServer = try LoopbackIssuer(kids: ["k1"], published: ["k1"])
        try await issuerServer.application().test(.live) { issuerClient in
            let iss = LoopbackIssuer.issuer(port: try #require(issuerClient.port))
            let logs = LogCollector()
            let echo = EchoBackend()
            let app = try makeApp(environment: [
                "MEMORY_API_KEYS": TestKeys.setting, "MEMORY_ENTRA_ISSUERS": iss, "MEMORY_ENTRA_AUDIENCE": Self.audience,
                "MEMORY_ENTRA_TENANTS": "\(Self.tid)=acme", "MEMORY_ENTRA_USER_CLAIM": "oid",
            ], backend: echo, logs: logs)
            try await app.test(.router) { client in
                func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }
                let good = try issuerServer.token(kid: "k1", claims: Self.claims(iss))
                let ping = try await client.call(.get, "/v1/ping/", headers: bearer(good))
                #expect(ping.status == 200)
                #expect(ping.json["org_id"] == .string("acme"))
                let expired = try issuerServer.token(kid: "k1", claims: Self.claims(iss, ["exp": .number(Date().timeIntervalSince1970 - 600)]))
                let refused = try await client.call(.get, "/v1/ping/", headers: bearer(expired))
                #expect(refused.status == 401)
                #expect(refused.json["code"] == .string("invalid_token"))
                // API keys still work beside tokens.
                #expect(try await client.call(.get, "/v1/ping/", key: TestKeys.acmeRead).status == 200)
                // A user token is bound to its oid (the service enforces it: BoundCredentialMatrixTests); an app token is not.
                let userToken = try issuerServer.token(kid: "k1", claims: Self.claims(iss, ["scp": .string("x"), "oid": .string("u-7")]))
                let bound = try await client.call(.post, "/v3/memories/", body: #"{"filters":{"user_id":"u-7"}}"#, headers: bearer(userToken))
                #expect(bound.status == 200)
                #expect(echo.calls.last["bound_user_id"] == .string("u-7"))
                let unbound = try await client.call(.post, "/v3/memories/", body: #"{"filters":{"user_id":"u-7"}}"#, headers: bearer(good))
                #expect(unbound.status == 200)
                #expect(echo.calls.last["bound_user_id"] == nil)
                let lines = logs.objects().compactMap { $0 }
                #expect(lines.contains { $0["status"] == "401" && ($0["cause"] ?? "").contains("expired") })
                for line in lines {
                    for value in line.values {
                        #expect(!value.contains(good) && !value.contains(expired) && !value.contains(userToken))
                    }
                }
            }
        }
    }

    @Test func settingsParse() throws {
        let s = try EntraSettings(environment: [
            "MEMORY_ENTRA_ISSUERS": "https://login.microsoftonline.com/t1/v2.0; https://sts.windows.net/t1/",
            "MEMORY_ENTRA_AUDIENCE": "api://x,00000000-0000-0000-0000-00000000000a",
            "MEMORY_ENTRA_TENANTS": "T1=acme;t2=beta", "MEMORY_ENTRA_USER_CLAIM": "oid",
        ])
        #expect(s.issuers.count == 2)
        #expect(s.audiences == ["api://x", "00000000-0000-0000-0000-00000000000a"])
        #expect(s.tenantsByTid == ["t1": "acme", "t2": "beta"])
        #expect(throws: ConfigurationError.self) { try EntraSettings(environment: ["MEMORY_ENTRA_ISSUERS": "https://x/v2.0", "MEMORY_ENTRA_TENANTS": "a=b"]) }
        #expect(throws: ConfigurationError.self) { try EntraSettings(environment: ["MEMORY_ENTRA_ISSUERS": "https://x/v2.0", "MEMORY_ENTRA_AUDIENCE": "a"]) }
        #expect(throws: ConfigurationError.self) { try EntraSettings(environment: ["MEMORY_ENTRA_ISSUERS": "not a url", "MEMORY_ENTRA_AUDIENCE": "a", "MEMORY_ENTRA_TENANT_CLAIM": "tid"]) }
        #expect(try EntraSettings(environment: [:]) == EntraSettings())
    }

    @Test func appServicePrincipalHeader() throws {
        let principal: JSONValue = .object([
            "auth_typ": .string("aad"), "name_typ": .string("name"), "role_typ": .string("roles"),
            "claims": .array([
                .object(["typ": .string("http://schemas.microsoft.com/identity/claims/tenantid"), "val": .string(Self.tid)]),
                .object(["typ": .string("roles"), "val": .string("Memory.Read")]),
                .object(["typ": .string("roles"), "val": .string("Memory.Write")]),
            ]),
        ])
        let header = principal.encoded().base64EncodedString()
        let auth = EntraAuthentication(validator: nil, mapper: EntraPrincipalMapper(settings: EntraSettings(
            tenantsByTid: [Self.tid: "acme"], trustAppServiceAuth: true)))
        #expect(try auth.principal(appServiceHeader: header) == Principal(tenant: "acme", role: .write))
        #expect(throws: APIError.self) { try auth.principal(appServiceHeader: "%%%") }
    }
}
