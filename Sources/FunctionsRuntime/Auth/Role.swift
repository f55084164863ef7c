/// What an API key may do. Ordered: `admin` ⊇ `write` ⊇ `read`.
public enum Role: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Search, list, get, history, entities, export download.
    case read = 1
    /// Everything `read` may do, plus add, update, delete, batch, entity deletion and export creation.
    case write = 2
    /// Everything `write` may do, plus the compact-now route.
    case admin = 3

    public init?(name: String) {
        switch name.lowercased() {
        case "read": self = .read
        case "write": self = .write
        case "admin": self = .admin
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .read: "read"
        case .write: "write"
        case .admin: "admin"
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
}

/// Who a request is: its tenant, the role its credential grants, and the one `user_id` it is bound to, if any.
public struct Principal: Sendable, Equatable {
    public var tenant: String
    public var role: Role
    /// Set for a credential bound to one user (an API key with a `user_id` field, an Entra user token when
    /// `MEMORY_ENTRA_USER_CLAIM` is set): every request then reads and writes only that user's memories.
    public var boundUserId: String?

    public init(tenant: String, role: Role, boundUserId: String? = nil) {
        self.tenant = tenant
        self.role = role
        self.boundUserId = boundUserId
    }
}
