import Foundation
import MemoryCore

extension RequestContext {
    /// The service context of a request made with `principal`'s credential: its tenant, whether it is an admin,
    /// and the user it is bound to.
    init(principal: Principal, requestId: String, idempotencyKey: String? = nil) {
        self.init(tenant: principal.tenant, requestId: requestId, idempotencyKey: idempotencyKey,
                  isAdmin: principal.role >= .admin, boundUserId: principal.boundUserId)
    }
}
