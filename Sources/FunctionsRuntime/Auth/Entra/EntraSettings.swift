import Foundation

/// The Entra ID settings (all optional; Entra tokens are accepted only when `MEMORY_ENTRA_ISSUERS` is set):
///
/// | setting | meaning |
/// |---|---|
/// | `MEMORY_ENTRA_ISSUERS` | accepted `iss` values, separated by `;`, `,` or spaces, e.g. `https://login.microsoftonline.com/{tid}/v2.0`; keys come from `{issuer}/.well-known/openid-configuration` |
/// | `MEMORY_ENTRA_AUDIENCE` | accepted `aud` values (the API's client id and/or App ID URI), separated by `;` or `,`; required with issuers |
/// | `MEMORY_ENTRA_TENANTS` | `entraTenantId=memoryTenant;…`: the AgentMemory tenant of each Entra `tid` (others are refused) |
/// | `MEMORY_ENTRA_TENANT_CLAIM` | instead of the table: the claim whose value is the tenant name (e.g. a custom claim) |
/// | `MEMORY_ENTRA_USER_CLAIM` | a claim (e.g. `oid`) that binds user tokens (delegated: with `scp`, or `idtyp` = `user`) to that `user_id`; app-only tokens stay unbound |
/// | `MEMORY_ENTRA_KEY_REFRESH_SECONDS` | least time between two key fetches for unknown `kid`s (default 300) |
/// | `MEMORY_TRUST_APP_SERVICE_AUTH` | `true` when App Service Authentication (Easy Auth) fronts the app: its `X-MS-CLIENT-PRINCIPAL` header is trusted |
public struct EntraSettings: Sendable, Equatable {
    public var issuers: [String]
    public var audiences: Set<String>
    /// Entra `tid` → AgentMemory tenant.
    public var tenantsByTid: [String: String]
    public var tenantClaim: String?
    public var userClaim: String?
    public var keyRefreshSeconds: Int
    public var trustAppServiceAuth: Bool

    /// True when bearer tokens are validated (issuers configured).
    public var acceptsTokens: Bool { !issuers.isEmpty }

    public init(issuers: [String] = [], audiences: Set<String> = [], tenantsByTid: [String: String] = [:],
                tenantClaim: String? = nil, userClaim: String? = nil, keyRefreshSeconds: Int = 300,
                trustAppServiceAuth: Bool = false) {
        self.issuers = issuers
        self.audiences = audiences
        self.tenantsByTid = tenantsByTid
        self.tenantClaim = tenantClaim
        self.userClaim = userClaim
        self.keyRefreshSeconds = keyRefreshSeconds
        self.trustAppServiceAuth = trustAppServiceAuth
    }

    public init(environment env: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        func list(_ s: String?) -> [String] {
            (s ?? "").split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " || $0 == "\n" }).map(String.init)
        }
        self.init()
        issuers = list(value("MEMORY_ENTRA_ISSUERS"))
        for issuer in issuers {
            guard let url = URL(string: issuer), ["https", "http"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
                  EntraSigningKeys.metadataURL(issuer: issuer) != nil else {
                throw ConfigurationError(setting: "MEMORY_ENTRA_ISSUERS",
                    problem: "'\(issuer.prefix(120))' must be an issuer URL such as https://login.microsoftonline.com/{tenant-id}/v2.0")
            }
        }
        audiences = Set(list(value("MEMORY_ENTRA_AUDIENCE")))
        tenantClaim = value("MEMORY_ENTRA_TENANT_CLAIM")
        userClaim = value("MEMORY_ENTRA_USER_CLAIM")
        for (index, item) in list(value("MEMORY_ENTRA_TENANTS")).enumerated() {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, APIKeyTable.isValidTenant(parts[1]) else {
                throw ConfigurationError(setting: "MEMORY_ENTRA_TENANTS",
                    problem: "entry \(index + 1) must be entraTenantId=tenant (tenant: 1-64 characters of A-Z a-z 0-9 _ -)")
            }
            tenantsByTid[parts[0].lowercased()] = parts[1]
        }
        if let s = value("MEMORY_ENTRA_KEY_REFRESH_SECONDS") {
            guard let n = Int(s), (0...86_400).contains(n) else {
                throw ConfigurationError(setting: "MEMORY_ENTRA_KEY_REFRESH_SECONDS", problem: "'\(s.prefix(20))' must be an integer in 0...86400")
            }
            keyRefreshSeconds = n
        }
        if let s = value("MEMORY_TRUST_APP_SERVICE_AUTH") {
            switch s.lowercased() {
            case "true", "1", "yes": trustAppServiceAuth = true
            case "false", "0", "no": trustAppServiceAuth = false
            default: throw ConfigurationError(setting: "MEMORY_TRUST_APP_SERVICE_AUTH", problem: "'\(s.prefix(20))' must be true or false")
            }
        }
        if acceptsTokens || trustAppServiceAuth {
            guard tenantClaim != nil || !tenantsByTid.isEmpty else {
                throw ConfigurationError(setting: "MEMORY_ENTRA_TENANTS",
                    problem: "set MEMORY_ENTRA_TENANTS (entraTenantId=tenant;…) or MEMORY_ENTRA_TENANT_CLAIM so Entra callers map to a tenant")
            }
        }
        if acceptsTokens, audiences.isEmpty {
            throw ConfigurationError(setting: "MEMORY_ENTRA_AUDIENCE",
                problem: "required with MEMORY_ENTRA_ISSUERS: the API's application (client) id and/or App ID URI")
        }
    }
}
