/// Which executable is running: the apps of the split topology, or everything in one process.
public enum HandlerRole: String, Sendable, CaseIterable {
    case search
    case add
    case compact
    /// `memory-local` and the single-app topology: every route, the timer, and scheduled compaction.
    case local

    /// Whether this role serves `endpoint`.
    public func serves(_ endpoint: Endpoint) -> Bool {
        guard let app = endpoint.app else { return true }
        switch self {
        case .local: return true
        case .search: return app == .search
        case .add: return app == .add
        case .compact: return app == .compact
        }
    }

    /// Whether this role answers the timer function `POST /compact`.
    public var servesTimer: Bool { self == .compact || self == .local }

    /// Whether this role serves the MCP endpoint (`/mcp`): `memory-local`, which the local run and the MCP function
    /// app run (its tools both read and write, so no app of the split topology can).
    public var servesMCP: Bool { self == .local }

    public var executable: String { "memory-\(rawValue)" }
}
