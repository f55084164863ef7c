import Crypto
import Foundation

/// The API keys from `MEMORY_API_KEYS`, stored as SHA-256 digests only.
///
/// Format: entries separated by `;` (or newlines), each `tenant:role:sha256hex[:user_id]`, e.g.
/// `acme:write:9f86d081…;acme-ro:read:…;acme:write:5e88…:alice`. `tenant` is 1–64 characters of
/// `A-Z a-z 0-9 _ -`; `role` is `read`, `write` or `admin`; `sha256hex` is the 64-hex-digit SHA-256 of the key
/// (`printf %s "$KEY" | sha256sum`, or `memory-local --hash-key KEY`). The optional fourth field binds the key to
/// one `user_id` (everything after the third `:`, so it may contain `:`; not `;`): the key then reads and writes
/// only that user's memories. An empty or unset setting means no keys: every request is the `default` tenant with
/// the admin role (the local run).
public struct APIKeyTable: Sendable {
    struct Entry: Sendable {
        var digest: [UInt8]
        var principal: Principal
    }

    let entries: [Entry]

    /// True when no keys are configured (single default tenant, no authentication).
    public var isOpen: Bool { entries.isEmpty }

    /// The tenant used when no keys are configured.
    public static let defaultTenant = "default"

    /// Parses the setting; throws ``ConfigurationError`` naming the bad entry (never echoing a digest).
    public init(setting: String?) throws(ConfigurationError) {
        var entries: [Entry] = []
        let raw = setting ?? ""
        let items = raw.split(whereSeparator: { $0 == ";" || $0 == "\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (index, item) in items.enumerated() {
            let parts = item.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            let position = "entry \(index + 1)"
            guard parts.count >= 3 else {
                throw ConfigurationError(setting: "MEMORY_API_KEYS",
                    problem: "\(position) must be tenant:role:sha256hex[:user_id] (fields separated by ':'), got \(parts.count) fields")
            }
            var boundUser: String? = nil
            if parts.count == 4 {
                let user = parts[3].trimmingCharacters(in: .whitespaces)
                guard !user.isEmpty, user.count <= 256 else {
                    throw ConfigurationError(setting: "MEMORY_API_KEYS",
                        problem: "\(position): the user_id after the third ':' must be 1-256 characters")
                }
                boundUser = user
            }
            let (tenant, roleName, hex) = (parts[0], parts[1], parts[2].lowercased())
            guard Self.isValidTenant(tenant) else {
                throw ConfigurationError(setting: "MEMORY_API_KEYS",
                    problem: "\(position): tenant '\(tenant.prefix(70))' must be 1-64 characters of A-Z a-z 0-9 _ -")
            }
            guard let role = Role(name: roleName) else {
                throw ConfigurationError(setting: "MEMORY_API_KEYS",
                    problem: "\(position): role '\(roleName.prefix(20))' must be read, write or admin")
            }
            guard let digest = Self.hexBytes(hex), digest.count == 32 else {
                throw ConfigurationError(setting: "MEMORY_API_KEYS",
                    problem: "\(position): the third field must be the 64-hex-digit SHA-256 of the key (printf %s KEY | sha256sum)")
            }
            entries.append(Entry(digest: digest, principal: Principal(tenant: tenant, role: role, boundUserId: boundUser)))
        }
        self.entries = entries
    }

    /// The principal of a presented key, or nil when it matches none. Compares every stored digest in constant
    /// time (no early exit), so timing reveals neither which entry nor how many bytes matched.
    public func principal(forKey key: String) -> Principal? {
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        var found: Principal?
        for entry in entries {
            var diff: UInt8 = 0
            for i in 0..<32 { diff |= entry.digest[i] ^ digest[i] }
            if diff == 0, found == nil { found = entry.principal }
        }
        return found
    }

    /// `printf %s KEY | sha256sum` in Swift: the value to put in the setting for `key`.
    public static func hash(key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func isValidTenant(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var chars = hex.makeIterator()
        while let a = chars.next(), let b = chars.next() {
            guard let byte = UInt8(String([a, b]), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
