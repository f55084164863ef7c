import Foundation

/// Remembers, per chat model (endpoint and model name), the strongest ``StructuredOutputMode`` its server
/// accepted, for the life of the process: the negotiation costs rejected requests once, not on every call.
///
/// Modes only ever step down. ``shared`` is the process-wide memory that every ``OpenAIChatClient`` uses by
/// default, so a client built per request still benefits; tests pass their own instance.
public actor StructuredOutputMemory {
    /// The memory of this process.
    public static let shared = StructuredOutputMemory()

    private var modes: [String: StructuredOutputMode] = [:]

    public init() {}

    /// The mode to start with for `model` (``StructuredOutputMode/jsonSchema`` until a downgrade is recorded).
    public func mode(for model: String) -> StructuredOutputMode {
        modes[model] ?? .jsonSchema
    }

    /// Records that `model`'s server rejected `rejected`, so later calls start at `replacement`. Returns true
    /// when this call changed the memory (the caller logs the downgrade then, so it is logged once), false when
    /// another call had already stepped down as far or further.
    @discardableResult
    public func downgrade(_ model: String, from rejected: StructuredOutputMode, to replacement: StructuredOutputMode)
        -> Bool
    {
        let current = modes[model] ?? .jsonSchema
        guard Self.rank(replacement) > Self.rank(current), Self.rank(rejected) >= Self.rank(current) else {
            return false
        }
        modes[model] = replacement
        return true
    }

    private static func rank(_ mode: StructuredOutputMode) -> Int {
        StructuredOutputMode.allCases.firstIndex(of: mode) ?? 0
    }
}
