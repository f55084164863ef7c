/// Which function app serves a route in the split topology (DESIGN.md §3).
public enum AppKind: String, Sendable, CaseIterable {
    /// `memory-search`: read routes.
    case search
    /// `memory-add`: write routes (and export creation).
    case add
    /// `memory-compact`: the timer and the compact-now admin route.
    case compact

    /// The executable that serves this app.
    public var executable: String { "memory-\(rawValue)" }
}

/// One operation of the HTTP API: its name (for logs), the minimum role, and the app that serves it.
/// `nil` app means every role serves it (ping: the SDK pings whichever base URL it is given).
public enum Endpoint: String, Sendable, CaseIterable {
    case ping
    case add
    case search
    case list
    case get
    case update
    case delete
    case history
    case deleteAll = "delete_all"
    case batchUpdate = "batch_update"
    case batchDelete = "batch_delete"
    case entities
    case deleteEntity = "delete_entity"
    case exportCreate = "export_create"
    case exportGet = "export_get"
    case compactNow = "compact_now"

    public var requiredRole: Role {
        switch self {
        case .ping, .search, .list, .get, .history, .entities, .exportGet: .read
        case .add, .update, .delete, .deleteAll, .batchUpdate, .batchDelete, .deleteEntity, .exportCreate: .write
        case .compactNow: .admin
        }
    }

    /// The app serving it in the split topology; exports are created by the add app (a write that stores the
    /// export as a blob) and fetched from the search app (a read of that blob).
    public var app: AppKind? {
        switch self {
        case .ping: nil
        case .search, .list, .get, .history, .entities, .exportGet: .search
        case .add, .update, .delete, .deleteAll, .batchUpdate, .batchDelete, .deleteEntity, .exportCreate: .add
        case .compactNow: .compact
        }
    }
}
