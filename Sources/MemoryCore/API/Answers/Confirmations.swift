import Foundation

/// The answer to a delete: which kind of delete it was and, for the bulk ones, how many memories it erased.
public enum Deletion: Sendable, Equatable {
    /// `DELETE /v1/memories/{id}/`.
    case memory
    /// `DELETE /v1/memories/?…` (by scope ids): memories erased.
    case memories(Int)
    /// `DELETE /v2/entities/{type}/{id}/`: memories erased.
    case entity(Int)
}

/// The answer to `PUT /v1/batch/` and `DELETE /v1/batch/`: how many memories were named (all exist: one
/// unknown id fails the whole batch).
public struct BatchOutcome: Sendable, Equatable {
    public enum Operation: String, Sendable, Equatable {
        case updated, deleted
    }

    public var operation: Operation
    public var count: Int

    public init(_ operation: Operation, count: Int) {
        self.operation = operation
        self.count = count
    }
}
