import Foundation

/// Failures of a ``BlobStore`` call, mirroring Azure Blob's error codes so that the engine reacts the same way
/// to the folder backend and to Azure.
public enum BlobStoreError: Error, Sendable, Equatable {
    /// `404 BlobNotFound` / `ContainerNotFound`.
    case notFound(name: String)
    /// `409 BlobAlreadyExists` (or `412` on `If-None-Match: *`): a create-only write found a blob.
    case alreadyExists(name: String)
    /// `412 ConditionNotMet`: an `If-Match` did not match, or the blob was missing.
    case conditionNotMet(name: String)
    /// `412 AppendPositionConditionNotMet`: the blob's length was `actualLength`, not the expected position.
    /// `actualLength` is `nil` when the backend could not tell (Azure does not return it).
    case appendPositionMismatch(name: String, expected: Int, actualLength: Int?)
    /// `409 BlobIsSealed`: the append blob is read-only.
    case sealed(name: String)
    /// `409 InvalidBlobType`: an append to a block blob, or the reverse.
    case wrongBlobType(name: String)
    /// `416 InvalidRange`: a range starting at or past the end.
    case invalidRange(name: String, size: Int)
    /// `403 AuthenticationFailed` / `AuthorizationPermissionMismatch` and similar: the credentials or their
    /// permissions are wrong. Not retried.
    case permissionDenied(name: String, code: String, message: String)
    /// The name contains characters outside `[A-Za-z0-9._/-]` or an empty or `..` segment.
    case invalidName(String)
    /// Anything else: I/O errors, unexpected statuses, exhausted retries. `message` says what and where.
    case unavailable(name: String, message: String)
}

extension BlobStoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notFound(let n): return "blob '\(n)' not found"
        case .alreadyExists(let n): return "blob '\(n)' already exists"
        case .conditionNotMet(let n): return "condition not met on blob '\(n)' (it changed or is missing)"
        case .appendPositionMismatch(let n, let e, let a):
            return "append to '\(n)' expected position \(e) but the blob is \(a.map(String.init) ?? "of another") length"
        case .sealed(let n): return "append blob '\(n)' is sealed"
        case .wrongBlobType(let n): return "blob '\(n)' is of the wrong type for this operation"
        case .invalidRange(let n, let s): return "range outside blob '\(n)' (size \(s))"
        case .permissionDenied(let n, let c, let m): return "access to blob '\(n)' denied (\(c)): \(m)"
        case .invalidName(let n): return "invalid blob name '\(n)'"
        case .unavailable(let n, let m): return "blob store unavailable for '\(n)': \(m)"
        }
    }
}
