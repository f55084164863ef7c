/// A filter the caller sent that cannot be understood: an unknown operator, a value of the wrong shape for its
/// operator, an unparseable date. The message names the offending operator, field or value; the HTTP layer
/// answers 400 with it.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "invalid filter: \(message)" }
}
