import Foundation

/// One change to a partition, as written to its append log. A request's operations go in one append, so they
/// land together or not at all.
public enum LogOperation: Sendable, Equatable {
    /// A new memory.
    case add(StoredMemory)
    /// A memory's new full state (text, metadata, expiry...). Its history keeps the previous text.
    case update(StoredMemory)
    /// Invalidates a memory (the infer pipeline's DELETE): hidden from reads, its history kept.
    case delete(id: UUID, at: Date)
    /// Erases a memory (the API's DELETE, entity deletion): hidden from reads at once; compaction removes its
    /// text, vector and history bytes physically.
    case purge(id: UUID, at: Date)

    /// The memory the operation touches.
    public var memoryId: UUID {
        switch self {
        case .add(let m), .update(let m): return m.id
        case .delete(let id, _), .purge(let id, _): return id
        }
    }
}

/// What one append carries: the operations of one request and, for idempotent requests, the key and the
/// response the first attempt returned (so a retry can return it again without writing anything).
public struct LogBatch: Sendable, Equatable {
    public var operations: [LogOperation]
    /// The request's `Idempotency-Key`, if it had one.
    public var idempotencyKey: String?
    /// The serialized response of the request, stored with the key.
    public var idempotentResponse: Data?
    /// The event id reported to the client for this batch (Mem0's `event_id`).
    public var eventId: UUID
    /// When the batch was written.
    public var writtenAt: Date

    public init(
        operations: [LogOperation], idempotencyKey: String? = nil, idempotentResponse: Data? = nil,
        eventId: UUID = UUID(), writtenAt: Date = Date()
    ) {
        self.operations = operations
        self.idempotencyKey = idempotencyKey
        self.idempotentResponse = idempotentResponse
        self.eventId = eventId
        self.writtenAt = writtenAt
    }
}

/// One step in a memory's history (Mem0's `/history/` items).
public struct HistoryEntry: Sendable, Equatable {
    public enum Event: String, Sendable, Equatable, Codable {
        case add = "ADD"
        case update = "UPDATE"
        case delete = "DELETE"
    }

    public var memoryId: UUID
    public var event: Event
    public var oldText: String?
    public var newText: String?
    public var at: Date
    /// The batch that made this change.
    public var eventId: UUID

    public init(memoryId: UUID, event: Event, oldText: String?, newText: String?, at: Date, eventId: UUID) {
        self.memoryId = memoryId
        self.event = event
        self.oldText = oldText
        self.newText = newText
        self.at = at
        self.eventId = eventId
    }
}

extension HistoryEntry {
    /// The event with its texts erased: what a deleted memory's history keeps.
    public func withoutText() -> HistoryEntry {
        HistoryEntry(memoryId: memoryId, event: event, oldText: nil, newText: nil, at: at, eventId: eventId)
    }
}
