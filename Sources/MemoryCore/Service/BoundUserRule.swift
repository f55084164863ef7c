import Foundation
import MemoryStorage

/// The rule for credentials bound to one `user_id` (``RequestContext/boundUserId``): such a credential reads and
/// writes only that user's memories, which all live in that user's partition.
///
/// - a memory id outside the user's partition is `404 memory_not_found` (another user's ids do not leak);
/// - scopes or filters naming another user are `403 user_not_allowed`;
/// - scopes or filters naming no user (agent-, app-, run- or tenant-wide reads, writes and erasures, the entity
///   listing) are `403 user_scope_required`: they need an unbound credential.
///
/// Unbound credentials (`boundUserId == nil`) pass every check unchanged.
enum BoundUserRule {
    /// Checks scopes an add, delete-all or delete-entity names.
    static func check(scopes: MemoryScopes, _ context: RequestContext, verb: String) throws(MemoryServiceError) {
        guard let bound = context.boundUserId else { return }
        guard let user = scopes.userId else { throw scopeRequired(verb) }
        guard user == bound else { throw otherUser(verb) }
    }

    /// Checks the scope ids a filter pins (search, list, export): every alternative must pin the bound user.
    static func check(targets: ScopeTargets, _ context: RequestContext, verb: String) throws(MemoryServiceError) {
        guard context.boundUserId != nil else { return }
        switch targets {
        case .unscoped, .everything:
            throw scopeRequired(verb)
        case .anyOf(let alternatives):
            for scopes in alternatives { try check(scopes: scopes, context, verb: verb) }
        }
    }

    /// Checks a request that is tenant-wide by nature (the entity listing).
    static func checkTenantWide(_ context: RequestContext, verb: String) throws(MemoryServiceError) {
        guard context.boundUserId != nil else { return }
        throw scopeRequired(verb)
    }

    /// Whether a bound credential may see what lives in partition `key` (always true when unbound).
    static func allows(_ key: PartitionKey, _ context: RequestContext) -> Bool {
        guard let bound = context.boundUserId else { return true }
        return key.owner.kind == .user && key.owner.id == bound
    }

    static func otherUser(_ verb: String) -> MemoryServiceError {
        MemoryServiceError(.forbidden, code: "user_not_allowed",
                           detail: "this credential is bound to one user_id and \(verb) only that user's memories; "
                               + "name that user_id (or use an unbound credential)")
    }

    static func scopeRequired(_ verb: String) -> MemoryServiceError {
        MemoryServiceError(.forbidden, code: "user_scope_required",
                           detail: "this credential is bound to one user_id: \(verb) must name that user_id; agent-, "
                               + "app-, run- and tenant-wide requests need an unbound credential")
    }
}
