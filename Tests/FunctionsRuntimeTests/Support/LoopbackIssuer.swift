import _CryptoExtras
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import JSONModel
import MemoryStorage

/// A token issuer for tests: RSA keys generated here, OpenID metadata and a JWKS served on loopback (by a live
/// Hummingbird app), and tokens signed with any of the keys. The published key set can change mid-test (key
/// rollover) and every JWKS fetch is counted. `lock` guards the mutable state.
final class LoopbackIssuer: @unchecked Sendable {
    let keys: [String: _RSA.Signing.PrivateKey]
    private let lock = NSLock()
    private var publishedKids: [String]
    private var jwksFetchCount = 0

    /// `kids` are generated; `published` of them are in the JWKS at first.
    init(kids: [String], published: [String]) throws {
        var keys: [String: _RSA.Signing.PrivateKey] = [:]
        for kid in kids { keys[kid] = try _RSA.Signing.PrivateKey(keySize: .bits2048) }
        self.keys = keys
        self.publishedKids = published
    }

    var jwksFetches: Int { lock.lock(); defer { lock.unlock() }; return jwksFetchCount }

    func publish(_ kids: [String]) { lock.lock(); publishedKids = kids; lock.unlock() }

    /// The issuer URL for a server on `port`: `http://127.0.0.1:{port}/{tenant}/v2.0`.
    static func issuer(port: Int, tenant: String = "tenant-a") -> String { "http://127.0.0.1:\(port)/\(tenant)/v2.0" }

    /// The JWKS document.
    func jwks() throws -> JSONValue {
        lock.lock(); let kids = publishedKids; jwksFetchCount += 1; lock.unlock()
        return .object(["keys": .array(try kids.map { kid in
            let primitives = try keys[kid]!.publicKey.getKeyPrimitives()
            return .object(["kty": .string("RSA"), "use": .string("sig"), "alg": .string("RS256"), "kid": .string(kid),
                            "n": .string(Self.b64url(primitives.modulus)), "e": .string(Self.b64url(primitives.publicExponent))])
        })])
    }

    /// The app serving `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/discovery/v2.0/keys`.
    func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("/:tenant/v2.0/.well-known/openid-configuration") { request, context -> Response in
            let tenant = context.parameters.get("tenant") ?? ""
            let host = request.head.authority ?? "127.0.0.1"
            return Self.json(.object([
                "issuer": .string("http://\(host)/\(tenant)/v2.0"),
                "jwks_uri": .string("http://\(host)/\(tenant)/discovery/v2.0/keys"),
            ]))
        }
        router.get("/:tenant/discovery/v2.0/keys") { _, _ -> Response in Self.json(try self.jwks()) }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// A token with `claims`, signed RS256 with key `kid` (or with a custom header and signature function).
    func token(kid: String, claims: [String: JSONValue], header extra: [String: JSONValue] = [:]) throws -> String {
        var header: [String: JSONValue] = ["alg": .string("RS256"), "typ": .string("JWT"), "kid": .string(kid)]
        for (k, v) in extra { header[k] = v }
        let input = Self.b64url(JSONValue.object(header).encoded()) + "." + Self.b64url(JSONValue.object(claims).encoded())
        let signature = try keys[kid]!.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Self.b64url(signature.rawRepresentation)
    }

    /// A token whose header and signature are made by the caller (alg none, HS256, …).
    static func unsignedToken(header: [String: JSONValue], claims: [String: JSONValue],
                              sign: (Data) -> Data = { _ in Data() }) -> String {
        let input = b64url(JSONValue.object(header).encoded()) + "." + b64url(JSONValue.object(claims).encoded())
        return input + "." + b64url(sign(Data(input.utf8)))
    }

    static func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }
}
