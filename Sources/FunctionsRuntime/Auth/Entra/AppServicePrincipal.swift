import Foundation
import Hummingbird
import JSONModel

/// The caller as App Service Authentication ("Easy Auth") describes it in `X-MS-CLIENT-PRINCIPAL`: base64 JSON
/// `{"auth_typ","claims":[{"typ","val"}],"name_typ","role_typ"}`. Trusted only with `MEMORY_TRUST_APP_SERVICE_AUTH`
/// (the platform then validates the token and strips any such header a client sends).
enum AppServicePrincipal {
    /// Long claim type URIs Easy Auth uses for the claims the mapper reads.
    static let claimAliases: [String: String] = [
        "http://schemas.microsoft.com/identity/claims/tenantid": "tid",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid",
        "http://schemas.microsoft.com/identity/claims/scope": "scp",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "roles",
    ]

    /// The claims of the header (multi-valued claims such as `roles` become arrays), or nil when it is malformed.
    static func claims(header: String) -> [String: JSONValue]? {
        guard let data = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)),
              let json = try? JSONDecoder().decode(JSONValue.self, from: data),
              case .array(let list)? = json["claims"] else { return nil }
        let roleType = json["role_typ"]?.stringValue ?? "roles"
        var claims: [String: JSONValue] = [:]
        var roles: [JSONValue] = []
        for item in list {
            guard case .string(let type)? = item["typ"], case .string(let value)? = item["val"] else { continue }
            let name = type == roleType ? "roles" : (claimAliases[type] ?? type)
            if name == "roles" { roles.append(.string(value)) } else if claims[name] == nil { claims[name] = .string(value) }
        }
        if !roles.isEmpty { claims["roles"] = .array(roles) }
        return claims
    }
}

extension HTTPField.Name {
    /// The caller App Service Authentication validated (``AppServicePrincipal``).
    static let appServicePrincipal = HTTPField.Name("X-MS-CLIENT-PRINCIPAL")!
}
