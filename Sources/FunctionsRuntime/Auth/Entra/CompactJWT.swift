import Foundation
import JSONModel

/// Why a bearer token was refused. `reason` is for the request log and the 401's detail: it never contains the
/// token, and claim values in it are capped.
public struct TokenRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// A compact-serialised JWS (`header.payload.signature`) split into its parts. Nothing is verified here.
struct CompactJWT: Sendable {
    /// The decoded JOSE header.
    let header: [String: JSONValue]
    /// The decoded claims.
    let claims: [String: JSONValue]
    /// The bytes the signature covers: the ASCII of `header.payload` as received.
    let signingInput: Data
    let signature: Data

    /// Tokens longer than this are refused unparsed (Entra access tokens are a few kilobytes).
    static let maxLength = 16 * 1024

    init(_ token: String) throws(TokenRejection) {
        guard token.utf8.count <= Self.maxLength else { throw TokenRejection("the token is longer than \(Self.maxLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw TokenRejection("the token is not a compact JWS (header.payload.signature)") }
        guard let headerBytes = Self.base64URLDecode(parts[0]),
              case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: headerBytes) else {
            throw TokenRejection("the token header is not base64url-encoded JSON")
        }
        guard let payloadBytes = Self.base64URLDecode(parts[1]),
              case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: payloadBytes) else {
            throw TokenRejection("the token payload is not base64url-encoded JSON")
        }
        guard let signature = Self.base64URLDecode(parts[2]) else {
            throw TokenRejection("the token signature is not base64url")
        }
        self.header = header
        self.claims = claims
        self.signingInput = Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        self.signature = signature
    }

    /// Whether `credential` looks like a JWT rather than an API key (three base64url parts, a JSON header).
    static func looksLikeJWT(_ credential: String) -> Bool {
        credential.hasPrefix("eyJ") && credential.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    /// Base64url without padding (RFC 7515 §2); nil for anything else.
    static func base64URLDecode(_ s: Substring) -> Data? {
        guard s.utf8.allSatisfy({ c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
        }) else { return nil }
        var b64 = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        switch b64.count % 4 {
        case 0: break
        case 2: b64 += "=="
        case 3: b64 += "="
        default: return nil
        }
        return Data(base64Encoded: b64)
    }

    /// Base64url without padding.
    static func base64URLEncode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
