import Foundation
import JSONModel

/// Turns verified Entra claims (from a token or from App Service Authentication) into a ``Principal``:
/// - tenant: `MEMORY_ENTRA_TENANTS[tid]`, or the value of `MEMORY_ENTRA_TENANT_CLAIM`; unknown → refused (401);
/// - role: the highest of the app roles `Memory.Read`, `Memory.Write`, `Memory.Admin` in `roles`; none → 403;
/// - bound user: with `MEMORY_ENTRA_USER_CLAIM`, a user token (delegated: it has `scp`, or `idtyp` is `user`) is
///   bound to that claim's value; app-only tokens (managed identities, daemons) are not bound.
public struct EntraPrincipalMapper: Sendable {
    public let settings: EntraSettings

    public static let roleNames: [(String, Role)] = [("Memory.Admin", .admin), ("Memory.Write", .write), ("Memory.Read", .read)]

    public init(settings: EntraSettings) {
        self.settings = settings
    }

    public enum Refusal: Error, Sendable, Equatable {
        /// The caller is not one of ours (unknown tenant, missing user claim): 401.
        case unauthenticated(String)
        /// The caller is known but holds no AgentMemory app role: 403.
        case noRole(String)
    }

    public func principal(_ claims: [String: JSONValue]) throws(Refusal) -> Principal {
        let tenant: String
        if let claim = settings.tenantClaim {
            guard case .string(let value)? = claims[claim], APIKeyTable.isValidTenant(value) else {
                throw .unauthenticated("the token's `\(claim.prefix(40))` claim is missing or not a tenant name (MEMORY_ENTRA_TENANT_CLAIM)")
            }
            tenant = value
        } else {
            guard case .string(let tid)? = claims["tid"] else { throw .unauthenticated("the token has no `tid` claim") }
            guard let mapped = settings.tenantsByTid[tid.lowercased()] else {
                throw .unauthenticated("Entra tenant '\(tid.prefix(40))' is not in MEMORY_ENTRA_TENANTS")
            }
            tenant = mapped
        }
        let roles = Set((claims["roles"]?.arrayValue ?? []).compactMap(\.stringValue))
        guard let role = Self.roleNames.first(where: { roles.contains($0.0) })?.1 else {
            throw .noRole("the token carries none of the app roles Memory.Read, Memory.Write, Memory.Admin; assign one in Entra ID")
        }
        var bound: String? = nil
        if let claim = settings.userClaim, Self.isUserToken(claims) {
            guard case .string(let user)? = claims[claim], !user.isEmpty, user.count <= 256 else {
                throw .unauthenticated("the user token has no `\(claim.prefix(40))` claim (MEMORY_ENTRA_USER_CLAIM)")
            }
            bound = user
        }
        return Principal(tenant: tenant, role: role, boundUserId: bound)
    }

    /// A token issued to a signed-in user (delegated), as opposed to an application's own (app-only) token.
    static func isUserToken(_ claims: [String: JSONValue]) -> Bool {
        if let idtyp = claims["idtyp"]?.stringValue { return idtyp == "user" }
        return claims["scp"] != nil
    }
}
