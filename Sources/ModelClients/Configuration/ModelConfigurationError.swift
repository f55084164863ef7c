import Foundation

/// A model setting is missing or unusable. The message names the environment variable and what to set.
public enum ModelConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `name` must be set because of `reason` (e.g. "MEMORY_EMBEDDER is azure-openai").
    case missingSetting(name: String, reason: String)
    /// `name` has a value that cannot be used; `expected` describes valid values.
    case invalidSetting(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .missingSetting(let name, let reason):
            return "missing setting \(name): it is required because \(reason)"
        case .invalidSetting(let name, let value, let expected):
            return "invalid setting \(name)=\(value.debugDescription): expected \(expected)"
        }
    }
}
