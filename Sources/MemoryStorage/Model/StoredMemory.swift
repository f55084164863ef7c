import Foundation
import JSONModel

/// One memory as the storage engine keeps it: what a snapshot holds and an add or update record carries.
///
/// The embedding travels with the memory so rebuilding a partition never calls the embedding API again.
public struct StoredMemory: Sendable, Equatable {
    public var id: UUID
    /// The memory text.
    public var text: String
    /// MD5 hex of `text` (Mem0's `hash`).
    public var hash: String
    public var scopes: MemoryScopes
    /// Caller metadata: a JSON object, or `.null` when there is none.
    public var metadata: JSONValue
    public var categories: [String]
    public var createdAt: Date
    public var updatedAt: Date
    /// After this instant the memory is hidden from search and list unless `show_expired`.
    public var expirationDate: Date?
    /// Unit-length embedding of `text` in the partition's embedding space.
    public var embedding: [Float]

    public init(
        id: UUID, text: String, hash: String, scopes: MemoryScopes, metadata: JSONValue = .null,
        categories: [String] = [], createdAt: Date, updatedAt: Date, expirationDate: Date? = nil,
        embedding: [Float]
    ) {
        self.id = id
        self.text = text
        self.hash = hash
        self.scopes = scopes
        self.metadata = metadata
        self.categories = categories
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expirationDate = expirationDate
        self.embedding = embedding
    }
}
