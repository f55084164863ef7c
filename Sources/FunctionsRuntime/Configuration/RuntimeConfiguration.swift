import Foundation
import Logging
import MemoryCore

/// Every setting a handler reads, parsed and checked once at startup (DESIGN.md §8). A bad value is a
/// ``ConfigurationError`` naming the setting; the executables print it on one line and exit non-zero.
public struct RuntimeConfiguration: Sendable {
    /// `FUNCTIONS_CUSTOMHANDLER_PORT` (legacy `FUNCTIONS_HTTPWORKER_PORT`); 7071 when unset (the local run).
    public var port: Int
    /// `MEMORY_STORAGE` + `MEMORY_CONTAINER`.
    public var storage: StorageConfiguration
    /// `MEMORY_EMBEDDER`.
    public var embedderName: String
    /// `MEMORY_API_KEYS`.
    public var apiKeys: APIKeyTable
    /// `MEMORY_ENTRA_*` and `MEMORY_TRUST_APP_SERVICE_AUTH`: Entra ID callers (``EntraSettings``).
    public var entra: EntraSettings
    /// `MEMORY_LOG_LEVEL` (default `info`; .NET names such as `Information` accepted).
    public var logLevel: Logger.Level
    /// `MEMORY_MAX_BODY_BYTES` (default 1 MiB): larger request bodies get 413.
    public var maxBodyBytes: Int
    /// `MEMORY_COMPACT_SCHEDULE`: the timer's NCRONTAB (read by the Functions host from function.json; kept
    /// here so it is validated and logged).
    public var compactSchedule: String
    /// `MEMORY_LOCAL_COMPACT_SECONDS` (default 300, or 0 = off when started by the Functions host, where the
    /// timer function compacts): how often `memory-local` compacts in process.
    public var localCompactInterval: Int
    /// True when the Functions host started the process (it sets `FUNCTIONS_APP_ROOT_PATH`).
    public var startedByFunctionsHost: Bool
    /// `MEMORY_COMPACT_GRACE_SECONDS` (default 600): how long compaction keeps blobs no manifest names before
    /// deleting them (readers may still be reading them). Erased memories' bytes are gone from storage at the
    /// first compaction run at least this long after the run that folded the deletion.
    public var compactGraceSeconds: Int
    /// `MEMORY_HTTP_IDLE_TIMEOUT_SECONDS` (default 10): a connection is closed when it has sent no complete
    /// request head, or stalled in a body, or sat idle between requests this long (a request being answered
    /// never times out).
    public var httpIdleTimeoutSeconds: Int
    /// `MEMORY_MAX_FANOUT_PARTITIONS` (default 2000): the most partitions one agent-, app- or run-wide (or an
    /// admin's `user_id: "*"`) read may open; beyond it the request is a 400 `too_many_partitions`.
    public var maxFanOutPartitions: Int
    /// The whole environment, for factories that read provider settings (endpoints, keys).
    public var environment: [String: String]

    public static let defaultPort = 7071
    public static let defaultMaxBodyBytes = 1 << 20
    public static let defaultCompactSchedule = "0 */5 * * * *"

    public init(environment env: [String: String]) throws(ConfigurationError) {
        environment = env
        let portSetting = env["FUNCTIONS_CUSTOMHANDLER_PORT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? env["FUNCTIONS_HTTPWORKER_PORT"].flatMap { $0.isEmpty ? nil : $0 }
        if let p = portSetting {
            guard let n = Int(p), (1...65535).contains(n) else {
                throw ConfigurationError(setting: "FUNCTIONS_CUSTOMHANDLER_PORT", problem: "'\(p.prefix(20))' must be a port number 1-65535")
            }
            port = n
        } else {
            port = Self.defaultPort
        }
        storage = try StorageConfiguration(storage: env["MEMORY_STORAGE"], container: env["MEMORY_CONTAINER"])
        let embedder = env["MEMORY_EMBEDDER"].flatMap { $0.isEmpty ? nil : $0 } ?? EmbedderFactory.defaultName
        guard EmbedderFactory.names.contains(embedder.lowercased()) else {
            throw ConfigurationError(setting: "MEMORY_EMBEDDER",
                problem: "'\(embedder.prefix(40))' is not one of \(EmbedderFactory.names.joined(separator: ", "))")
        }
        embedderName = embedder.lowercased()
        apiKeys = try APIKeyTable(setting: env["MEMORY_API_KEYS"])
        entra = try EntraSettings(environment: env)
        if let l = env["MEMORY_LOG_LEVEL"], !l.isEmpty {
            guard let level = Logger.Level(setting: l) else {
                throw ConfigurationError(setting: "MEMORY_LOG_LEVEL",
                    problem: "'\(l.prefix(20))' must be trace, debug, info, notice, warning, error or critical")
            }
            logLevel = level
        } else {
            logLevel = .info
        }
        maxBodyBytes = try Self.int(env, "MEMORY_MAX_BODY_BYTES", default: Self.defaultMaxBodyBytes, range: 1024...(64 << 20))
        compactSchedule = env["MEMORY_COMPACT_SCHEDULE"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultCompactSchedule
        let fields = compactSchedule.split(separator: " ")
        guard fields.count == 6 else {
            throw ConfigurationError(setting: "MEMORY_COMPACT_SCHEDULE",
                problem: "'\(compactSchedule.prefix(60))' must be an NCRONTAB with 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. '\(Self.defaultCompactSchedule)'")
        }
        // Under the Functions host the timer function compacts; the in-process schedule is for the local run.
        let startedByHost = env["FUNCTIONS_APP_ROOT_PATH"].map { !$0.isEmpty } ?? false
        startedByFunctionsHost = startedByHost
        httpIdleTimeoutSeconds = try Self.int(env, "MEMORY_HTTP_IDLE_TIMEOUT_SECONDS", default: 10, range: 1...3600)
        compactGraceSeconds = try Self.int(env, "MEMORY_COMPACT_GRACE_SECONDS", default: 600, range: 0...86_400 * 30)
        localCompactInterval = try Self.int(env, "MEMORY_LOCAL_COMPACT_SECONDS", default: startedByHost ? 0 : 300,
                                            range: 0...86_400 * 7)
        maxFanOutPartitions = try Self.int(env, "MEMORY_MAX_FANOUT_PARTITIONS", default: MemoryServiceOptions().maxFanOutPartitions,
                                           range: 1...1_000_000)
    }

    /// The process environment.
    public static func fromProcess() throws(ConfigurationError) -> RuntimeConfiguration {
        try RuntimeConfiguration(environment: ProcessInfo.processInfo.environment)
    }

    static func int(_ env: [String: String], _ name: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let s = env[name], !s.isEmpty else { return value }
        guard let n = Int(s.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
            throw ConfigurationError(setting: name, problem: "'\(s.prefix(20))' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }
}
