import Foundation
import JSONModel
import MemoryStorage

/// The answer to a write that may carry an `Idempotency-Key`: either what this call did, or the answer a
/// previous call with the same key recorded (``IdempotentWrite``), which is replayed as it was sent then.
public enum WriteAnswer<Value: Sendable>: Sendable {
    /// This call did the work (or found nothing to do).
    case applied(Value)
    /// An earlier call with the same key and request did; nothing was written now.
    case replayed(RecordedAnswer)

    /// The value of a write this call applied; nil for a replay.
    public var applied: Value? {
        if case .applied(let v) = self { return v }
        return nil
    }
}

/// A previous call's answer kept with its write's log record.
public enum RecordedAnswer: Sendable, Equatable {
    /// The JSON sent then, byte for byte the same shape.
    case answer(JSONValue)
    /// The key's write happened but what it wrote has since been erased: the answer is not quoted.
    case erased
}

extension WriteAnswer: Equatable where Value: Equatable {}
