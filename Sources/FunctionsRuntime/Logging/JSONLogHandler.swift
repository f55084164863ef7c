import Foundation
import Logging

/// A swift-log handler writing one JSON object per line to stdout, which the Functions host forwards to
/// Application Insights: `{"ts","level","message","label",…metadata}`. Metadata values are flattened to
/// strings; `invocation_id`, `tenant`, `request_id`, `route`, `status`, `duration_ms` are set by the HTTP layer.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: LogSink

    public init(label: String, level: Logger.Level, sink: LogSink = .standardOutput) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (k, v) in merged { fields[k] = Self.flatten(v) }
        fields["ts"] = Self.timestamp()
        fields["level"] = event.level.rawValue
        fields["message"] = event.message.description
        fields["label"] = label
        let data = (try? Self.encoder.encode(fields)) ?? Data(#"{"message":"unencodable log line"}"#.utf8)
        sink.write(data + Data("\n".utf8))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func flatten(_ v: Logger.Metadata.Value) -> String {
        switch v {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return "[" + a.map(flatten).joined(separator: ", ") + "]"
        case .dictionary(let d): return "{" + d.sorted { $0.key < $1.key }.map { "\($0.key): \(flatten($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Where log lines go. Writes are whole lines in one `write(2)`, so concurrent lines never interleave.
public struct LogSink: Sendable {
    let writer: @Sendable (Data) -> Void

    public init(write: @escaping @Sendable (Data) -> Void) {
        self.writer = write
    }

    public static let standardOutput = LogSink { data in
        FileHandle.standardOutput.write(data)
    }

    func write(_ data: Data) { writer(data) }
}

extension Logger.Level {
    /// Parses `MEMORY_LOG_LEVEL` values, also accepting the .NET names the Functions host uses
    /// (`Information`, `Warning`, `Error`, `Critical`, `Debug`, `Trace`).
    public init?(setting: String) {
        switch setting.lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info", "information": self = .info
        case "notice": self = .notice
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "critical": self = .critical
        default: return nil
        }
    }
}
