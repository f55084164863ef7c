import Foundation

/// The query string as the routes read it: percent-decoded, `+` as a space, a repeated key's values joined with
/// `,` (as the Functions host does). Also builds one, for requests rebuilt from an invocation envelope.
enum QueryString {
    /// Splits `a=1&b=two%20words` into decoded pairs.
    static func parse(_ raw: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            guard !key.isEmpty else { continue }
            if let existing = out[key] { out[key] = existing + "," + value } else { out[key] = value }
        }
        return out
    }

    /// `parse`'s inverse: every byte outside `A-Z a-z 0-9 - . _ ~` percent-encoded.
    static func encode(_ query: [String: String]) -> String {
        query.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
