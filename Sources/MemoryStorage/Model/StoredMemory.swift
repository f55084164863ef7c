import Foundation
import JSONModel

/// One memory as the storage engine keeps it: what a snapshot holds and an add or update record carries.
///
/// The embedding travels with the memory so rebuilding a partition never calls the embedding API again. It is
/// kept as a ``StoredVector``: exact floats as the embedder returned them (what a log record carries), int8 codes
/// once the memory is part of a ``PartitionState`` (see ``vector``).
public struct StoredMemory: Sendable, Equatable {
    public var id: UUID
    /// The memory text.
    public var text: String
    /// MD5 hex of `text` (Mem0's `hash`), kept as 16 bytes when it is one (see ``hash``).
    public var contentHash: ContentHash
    /// MD5 hex of `text` (Mem0's `hash`): ``contentHash`` as text (formats 32 hex digits on each read; compare
    /// ``contentHash`` values instead where that matters).
    public var hash: String {
        get { contentHash.string }
        set { contentHash = ContentHash(newValue) }
    }
    /// The memory's scope ids (held in a ``SharedScopes``, which a snapshot decode shares between memories).
    public var scopes: MemoryScopes {
        get { sharedScopes.value }
        set { sharedScopes = SharedScopes(newValue) }
    }
    var sharedScopes: SharedScopes
    /// Caller metadata: a JSON object, or `.null` when there is none.
    public var metadata: JSONValue
    public var categories: [String]
    public var createdAt: Date
    public var updatedAt: Date
    /// After this instant the memory is hidden from search and list unless `show_expired`.
    public var expirationDate: Date?
    /// Unit-length embedding of `text` in the partition's embedding space.
    public var vector: StoredVector

    /// The embedding as floats: materialised from the codes when ``vector`` is quantised (allocates; prefer
    /// ``StoredVector/dot(_:)`` and ``StoredVector/dimension`` where they do). Setting it stores exact floats.
    public var embedding: [Float] {
        get { vector.floats }
        set { vector = StoredVector(newValue) }
    }

    public init(
        id: UUID, text: String, hash: String, scopes: MemoryScopes, metadata: JSONValue = .null,
        categories: [String] = [], createdAt: Date, updatedAt: Date, expirationDate: Date? = nil,
        embedding: [Float]
    ) {
        self.init(id: id, text: text, hash: hash, scopes: scopes, metadata: metadata, categories: categories,
                  createdAt: createdAt, updatedAt: updatedAt, expirationDate: expirationDate,
                  vector: StoredVector(embedding))
    }

    public init(
        id: UUID, text: String, hash: String, scopes: MemoryScopes, metadata: JSONValue = .null,
        categories: [String] = [], createdAt: Date, updatedAt: Date, expirationDate: Date? = nil,
        vector: StoredVector
    ) {
        self.init(id: id, text: text, contentHash: ContentHash(hash), scopes: scopes, metadata: metadata,
                  categories: categories, createdAt: createdAt, updatedAt: updatedAt, expirationDate: expirationDate,
                  vector: vector)
    }

    public init(
        id: UUID, text: String, contentHash: ContentHash, scopes: MemoryScopes, metadata: JSONValue = .null,
        categories: [String] = [], createdAt: Date, updatedAt: Date, expirationDate: Date? = nil,
        vector: StoredVector
    ) {
        self.init(id: id, text: text, contentHash: contentHash, sharedScopes: SharedScopes(scopes), metadata: metadata,
                  categories: categories, createdAt: createdAt, updatedAt: updatedAt, expirationDate: expirationDate,
                  vector: vector)
    }

    /// With scopes shared with other memories (a snapshot decode interns them).
    init(
        id: UUID, text: String, contentHash: ContentHash, sharedScopes: SharedScopes, metadata: JSONValue,
        categories: [String], createdAt: Date, updatedAt: Date, expirationDate: Date?, vector: StoredVector
    ) {
        self.id = id
        self.text = text
        self.contentHash = contentHash
        self.sharedScopes = sharedScopes
        self.metadata = metadata
        self.categories = categories
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expirationDate = expirationDate
        self.vector = vector
    }
}
