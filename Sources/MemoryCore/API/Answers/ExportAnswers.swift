import Foundation
import JSONModel
import MemoryStorage

/// The answer to `POST /v1/exports/`: the id of the stored export.
public struct ExportReceipt: Sendable, Equatable {
    public var id: UUID

    public init(id: UUID) { self.id = id }
}

/// The answer to `POST /v1/exports/get/`.
public enum ExportContents: Sendable {
    /// A stored export, as ``ResponseEncoding/exportDocument(id:request:createdAt:memories:)`` made it.
    case stored(JSONValue)
    /// The memories a `filters` lookup found now, oldest first.
    case computed([StoredMemory])
}
