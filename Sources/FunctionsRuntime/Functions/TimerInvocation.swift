import JSONModel

/// The timer trigger's `Data.timer` (reference §1.6): only `IsPastDue` and the schedule's last run matter.
public struct TimerInvocation: Sendable, Equatable {
    public var isPastDue: Bool
    /// `ScheduleStatus.Last` as sent (nil when `ScheduleStatus` is null or absent).
    public var last: String?

    public init(envelope: JSONValue) throws(APIError) {
        guard case .object(let data)? = envelope["Data"] else {
            throw APIError(status: .badRequest, code: "invalid_envelope", detail: "the timer invocation has no `Data` object")
        }
        let timer = data["timer"]?.objectValue ?? data.values.compactMap({ $0.objectValue }).first ?? [:]
        switch timer["IsPastDue"] {
        case .bool(let b)?: isPastDue = b
        case .string(let s)?: isPastDue = s.lowercased() == "true"
        default: isPastDue = false
        }
        last = timer["ScheduleStatus"]?["Last"]?.stringValue
    }
}
