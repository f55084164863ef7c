import Foundation
import JSONModel
import MemoryStorage

/// Reads typed fields out of a JSON request body, turning every shape problem into a 400 that names the field.
/// Types are strict (a string is never read as a number or a boolean); `null` is the same as leaving a field out.
struct FieldReader {
    let object: [String: JSONValue]
    let context: String

    init(_ json: JSONValue, context: String) throws(MemoryServiceError) {
        guard case .object(let o) = json else {
            throw .invalid("\(context): the body must be a JSON object", code: "invalid_body")
        }
        self.object = o
        self.context = context
    }

    func has(_ key: String) -> Bool { object[key].map { !$0.isNull } ?? false }

    func string(_ key: String, maxLength: Int = 4096) throws(MemoryServiceError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .string(let s) = v else { throw .invalid("`\(key)` must be a string", code: "invalid_field") }
        // Counted in Unicode scalars, as JSON Schema's maxLength counts characters (docs/openapi.yaml).
        guard s.unicodeScalars.count <= maxLength else {
            throw .invalid("`\(key)` is longer than \(maxLength) characters", code: "invalid_field")
        }
        return s
    }

    /// A scope id: a non-empty string of at most 256 characters, no control characters.
    func scopeId(_ key: String) throws(MemoryServiceError) -> String? {
        guard let s = try string(key, maxLength: 256) else { return nil }
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .invalid("`\(key)` must not be empty", code: "invalid_field") }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid("`\(key)` must not contain control characters", code: "invalid_field")
        }
        return s
    }

    func bool(_ key: String) throws(MemoryServiceError) -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw .invalid("`\(key)` must be a boolean (true or false)", code: "invalid_field") }
        return b
    }

    func int(_ key: String, range: ClosedRange<Int>) throws(MemoryServiceError) -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .number(let d) = v else {
            throw .invalid("`\(key)` must be an integer in \(range.lowerBound)...\(range.upperBound)", code: "invalid_field")
        }
        guard d.isFinite, d.rounded() == d, let i = Int(exactly: d), range.contains(i) else {
            throw .invalid("`\(key)` must be an integer in \(range.lowerBound)...\(range.upperBound)", code: "invalid_field")
        }
        return i
    }

    func number(_ key: String, range: ClosedRange<Double>) throws(MemoryServiceError) -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .number(let d) = v, d.isFinite, range.contains(d) else {
            throw .invalid("`\(key)` must be a number in \(range.lowerBound)...\(range.upperBound)", code: "invalid_field")
        }
        return d
    }

    /// A JSON object (or absent / null).
    func object(_ key: String) throws(MemoryServiceError) -> [String: JSONValue]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .object(let o) = v else { throw .invalid("`\(key)` must be a JSON object", code: "invalid_field") }
        return o
    }

    /// `metadata`: a JSON object (or absent / null) that a log record can carry and every reader can read back
    /// (``RecordLimits``).
    func metadata(_ key: String = "metadata") throws(MemoryServiceError) -> [String: JSONValue]? {
        guard let o = try object(key) else { return nil }
        let depth = JSONValue.object(o).nestingDepth
        guard depth <= RecordLimits.maxJSONNesting else {
            throw .invalid("`\(key)` nests \(depth) levels deep; at most \(RecordLimits.maxJSONNesting) are accepted",
                           code: "invalid_field")
        }
        return o
    }

    func stringArray(_ key: String, maxCount: Int = 100) throws(MemoryServiceError) -> [String]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .array(let a) = v, a.count <= maxCount else {
            throw .invalid("`\(key)` must be an array of at most \(maxCount) strings", code: "invalid_field")
        }
        var out: [String] = []
        for e in a {
            guard case .string(let s) = e else { throw .invalid("`\(key)` must contain only strings", code: "invalid_field") }
            out.append(s)
        }
        return out
    }

    /// A date (`YYYY-MM-DD`), date-time (ISO-8601) or Unix epoch seconds.
    func date(_ key: String) throws(MemoryServiceError) -> Date? {
        guard let v = object[key], !v.isNull else { return nil }
        switch v {
        case .number(let n) where n.isFinite && n >= 0 && n < 1e11: return Date(timeIntervalSince1970: n)
        case .string(let s):
            if let d = ISODates.parse(s) { return d }
            throw .invalid("`\(key)` must be a date (YYYY-MM-DD) or an ISO-8601 date-time, got '\(s.prefix(40))'",
                           code: "invalid_field")
        default: throw .invalid("`\(key)` must be a date string or epoch seconds", code: "invalid_field")
        }
    }

    /// `filters` (an object, or `{}` when absent) with the body's top-level scope ids added where the filters do
    /// not name them: Mem0's v1 style of sending `user_id` beside `filters`.
    func filtersWithTopLevelScopes() throws(MemoryServiceError) -> JSONValue {
        var filters = try object("filters") ?? [:]
        let top = try scopes()
        for kind in OwnerKind.allCases {
            if let id = top[kind], filters["\(kind.rawValue)_id"] == nil { filters["\(kind.rawValue)_id"] = .string(id) }
        }
        return .object(filters)
    }

    /// Scope ids of the body (`user_id`, `agent_id`, `app_id`, `run_id`).
    func scopes() throws(MemoryServiceError) -> MemoryScopes {
        MemoryScopes(userId: try scopeId("user_id"), agentId: try scopeId("agent_id"),
                     appId: try scopeId("app_id"), runId: try scopeId("run_id"))
    }
}

/// ISO-8601 formatting and lenient parsing of the dates the API carries.
public enum ISODates {
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()

    /// `2026-11-25T03:30:00.123Z`.
    public static func format(_ date: Date) -> String { fractional.format(date) }

    /// `2026-11-25` (UTC).
    public static func formatDay(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// Parses `YYYY-MM-DD` (midnight UTC), ISO-8601 date-times with or without fractional seconds and with `Z` or
    /// an offset, and a date-time without zone (taken as UTC).
    public static func parse(_ s: String) -> Date? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.count == 10, let d = parseDay(t) { return d }
        if let d = try? fractional.parse(t) { return d }
        if let d = try? whole.parse(t) { return d }
        // Offsets like +05:30 and missing zones: normalise through Foundation's lenient parser.
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: t) { return d }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: t) { return d }
        if !t.hasSuffix("Z"), !t.contains("+"), t.count >= 19 {
            return parse(t + "Z")
        }
        return nil
    }

    private static func parseDay(_ s: String) -> Date? {
        let parts = s.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var c = DateComponents()
        c.year = y; c.month = m; c.day = d
        c.timeZone = TimeZone(identifier: "UTC")
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        guard let date = cal.date(from: c), cal.component(.day, from: date) == d else { return nil }
        return date
    }
}
