import Foundation
import ModelClients

/// What an add (or an inferred reconciliation) did to one memory: Mem0's `event` field.
public enum MemoryEventKind: String, Sendable, Equatable, CaseIterable {
    case add = "ADD"
    case update = "UPDATE"
    case delete = "DELETE"
}

/// One change an add made: the memory, its text after the change (before it, for a delete), and what happened.
public struct MemoryEvent: Sendable, Equatable {
    public var id: UUID
    public var text: String
    public var kind: MemoryEventKind

    public init(id: UUID, text: String, kind: MemoryEventKind) {
        self.id = id
        self.text = text
        self.kind = kind
    }
}

/// The answer to `POST /v3/memories/add/`: the batch's event id and one event per memory changed (nothing for
/// duplicates skipped or NONE decisions), whether the messages were stored verbatim (`infer: false`), and the
/// chat model's token usage when the infer pipeline ran.
public struct AddOutcome: Sendable, Equatable {
    public var eventId: UUID
    public var events: [MemoryEvent]
    public var storedVerbatim: Bool
    public var usage: TokenUsage?

    public init(eventId: UUID, events: [MemoryEvent], storedVerbatim: Bool = false, usage: TokenUsage? = nil) {
        self.eventId = eventId
        self.events = events
        self.storedVerbatim = storedVerbatim
        self.usage = usage
    }
}
