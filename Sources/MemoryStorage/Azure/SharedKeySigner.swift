import Crypto
import Foundation

/// Signs Blob REST requests with an account key (Azure's SharedKey scheme, version 2015-02-21 and later).
///
/// The string-to-sign is built from the request exactly as it goes on the wire: the verb, eleven standard
/// headers (an absent one is an empty line; `Content-Length: 0` is an empty line too), the `x-ms-*` headers
/// lowercased and sorted, and the canonicalized resource (`/account` + the encoded path, then each query
/// parameter as `name:decoded-value`, sorted). See `docs/azure-blob.md` and the reference §2.3.
public struct SharedKeySigner: Sendable {
    /// The storage account the key belongs to; it is the first element of the canonicalized resource.
    public let accountName: String
    private let key: Data

    /// The standard headers that take part in the signature, in signing order.
    static let signedStandardHeaders = [
        "content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
    ]

    /// - Throws: ``AzureSettingsError/invalidAccountKey(account:)`` when `base64Key` is not Base64.
    public init(accountName: String, base64Key: String) throws {
        guard let key = Data(base64Encoded: base64Key), !key.isEmpty else {
            throw AzureSettingsError.invalidAccountKey(account: accountName)
        }
        self.accountName = accountName
        self.key = key
    }

    /// The text that is signed for a request with this `method`, `url` and `headers` (header names in any case).
    public func stringToSign(method: String, url: URL, headers: [String: String]) -> String {
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        var lines = [method.uppercased()]
        for name in Self.signedStandardHeaders {
            var value = lowered[name] ?? ""
            if name == "content-length", value == "0" { value = "" }
            lines.append(value)
        }
        var text = lines.joined(separator: "\n") + "\n"
        for name in lowered.keys.filter({ $0.hasPrefix("x-ms-") }).sorted() {
            text += name + ":" + (lowered[name] ?? "").trimmingCharacters(in: .whitespaces) + "\n"
        }
        text += canonicalizedResource(url)
        return text
    }

    /// The `Authorization` header value: `SharedKey account:Base64(HMAC-SHA256(key, stringToSign))`.
    public func authorization(method: String, url: URL, headers: [String: String]) -> String {
        let text = stringToSign(method: method, url: url, headers: headers)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: key))
        return "SharedKey \(accountName):\(Data(mac).base64EncodedString())"
    }

    private func canonicalizedResource(_ url: URL) -> String {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? url.path
        var resource = "/" + accountName + (path.isEmpty ? "/" : path)
        var grouped: [String: [String]] = [:]
        for part in (components?.percentEncodedQuery ?? "").split(separator: "&") where !part.isEmpty {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pieces[0]).removingPercentEncoding ?? String(pieces[0])
            let raw = pieces.count > 1 ? String(pieces[1]) : ""
            grouped[name.lowercased(), default: []].append(raw.removingPercentEncoding ?? raw)
        }
        for name in grouped.keys.sorted() {
            resource += "\n" + name + ":" + (grouped[name] ?? []).sorted().joined(separator: ",")
        }
        return resource
    }
}
