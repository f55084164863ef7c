import Foundation

/// An idempotent request's recorded answer.
///
/// An answer may quote what its request wrote (a memory's text), so it is erased with it: when a memory it
/// names is deleted or purged, ``response`` becomes empty (``isErased``) while the key stays, so a retry still
/// writes nothing and learns only that its request was applied.
public struct IdempotentResponse: Sendable, Equatable {
    /// The answer's bytes, as the layer above stored them; empty once erased.
    public var response: Data
    public var recordedAt: Date
    /// The memories the request wrote (its batch's operations), whose erasure erases this answer.
    public var memoryIds: [UUID]

    public init(response: Data, recordedAt: Date, memoryIds: [UUID] = []) {
        self.response = response
        self.recordedAt = recordedAt
        self.memoryIds = memoryIds
    }

    /// True when a memory the answer named has been erased, and the answer with it.
    public var isErased: Bool { response.isEmpty }
}

/// Everything a partition holds after applying its snapshot and its log: the live memories, their history and
/// the recent idempotent answers. A value: readers get a consistent copy, writers derive the next one.
public struct PartitionState: Sendable {
    public let key: PartitionKey
    /// Live memories (neither deleted nor purged), in no particular order. Their vectors are int8 rows
    /// (``StoredVector/isQuantized``): the initialiser and ``apply(_:)`` quantise float vectors once, so the state
    /// keeps one copy of each vector and every reader sees the vectors a snapshot of it would hold.
    public private(set) var memories: [StoredMemory]
    /// Index of each live memory in ``memories``.
    public private(set) var positions: MemoryPositions
    /// History per memory id, oldest first; kept for deleted (invalidated) memories, dropped for purged ones.
    public private(set) var history: MemoryHistory
    /// Answers recorded for idempotency keys.
    public private(set) var idempotentResponses: [String: IdempotentResponse]
    /// Count of batches ever applied to this partition, monotonic across compactions: a cheap change token
    /// (a search index built at revision r is current while the revision is still r).
    public private(set) var revision: UInt64
    /// The memories ``apply(_:)`` touched since this state was initialised, with ``ChangeJournal/lineage``
    /// identifying that initialisation: lets a consumer update what it derived from an earlier state of the
    /// same lineage by revisiting only those memories (see ``ChangeJournal``).
    ///
    /// Positions in ``memories`` move in one way only, which such a consumer may rely on: an update replaces
    /// a memory in place, an add appends, and a removal (delete, purge) moves the last memory into the freed
    /// slot. So a memory no change touched keeps its position unless it was among the last memories.
    public private(set) var journal: ChangeJournal
    /// The snapshot this state was loaded from, when it carried derived sections (see
    /// ``PartitionStoreOptions/derivedSections``): lets a layer above reuse what it stored there instead of
    /// deriving it again. Set only by the snapshot-loading initialiser, carried unchanged by `apply` (its
    /// ``SnapshotBase/lineage`` is this state's ``ChangeJournal/lineage``, so ``changes(since:lineage:)`` tells
    /// what changed after it).
    public let snapshotBase: SnapshotBase?

    /// An empty partition.
    public init(key: PartitionKey) {
        self.key = key
        self.memories = []
        self.positions = MemoryPositions()
        self.history = MemoryHistory()
        self.idempotentResponses = [:]
        self.revision = 0
        self.journal = ChangeJournal(revision: 0)
        self.snapshotBase = nil
    }

    /// A partition rebuilt from a snapshot's contents. With `snapshotSections` (the snapshot's derived
    /// sections), the state keeps them and `memories` as its ``snapshotBase``.
    public init(
        key: PartitionKey, memories: [StoredMemory], history: MemoryHistory,
        idempotentResponses: [String: IdempotentResponse], revision: UInt64,
        snapshotSections: [SnapshotSection] = []
    ) {
        self.key = key
        self.memories = Self.quantized(memories)
        var positions = MemoryPositions(minimumCapacity: memories.count)
        // By index, not `enumerated()`: that copies every memory (a retain per field) just to read its id.
        for i in memories.indices { positions[memories[i].id] = i }
        self.positions = positions
        self.history = history
        self.idempotentResponses = idempotentResponses
        self.revision = revision
        let journal = ChangeJournal(revision: revision)
        self.journal = journal
        self.snapshotBase = snapshotSections.isEmpty ? nil
            : SnapshotBase(lineage: journal.lineage, revision: revision, memories: self.memories, sections: snapshotSections)
    }

    /// `memories` with every float vector replaced by int8 codes (the same array when there is none).
    static func quantized(_ memories: [StoredMemory]) -> [StoredMemory] {
        guard memories.contains(where: { !$0.vector.isQuantized && $0.vector.dimension > 0 }) else { return memories }
        var vectors = memories.map(\.vector)
        StoredVector.quantizeAll(&vectors)
        var out = memories
        for i in out.indices { out[i].vector = vectors[i] }
        return out
    }

    /// The batch's operations with the vectors of its added and updated memories quantised (one block for
    /// the batch).
    static func quantized(_ operations: [LogOperation]) -> [LogOperation] {
        var written: [StoredMemory] = []
        for op in operations {
            switch op {
            case .add(let m), .update(let m): written.append(m)
            case .delete, .purge: break
            }
        }
        let quantized = Self.quantized(written)
        var next = 0
        return operations.map { op in
            switch op {
            case .add:
                defer { next += 1 }
                return .add(quantized[next])
            case .update:
                defer { next += 1 }
                return .update(quantized[next])
            case .delete, .purge:
                return op
            }
        }
    }

    /// The live memory with this id.
    public func memory(_ id: UUID) -> StoredMemory? {
        positions[id].map { memories[$0] }
    }

    /// True when the partition holds nothing worth keeping: no live memory and no history.
    public var isEmpty: Bool { memories.isEmpty && history.isEmpty }

    /// Applies one batch. Deterministic: every reader that applies the same batches in the same order reaches
    /// the same state.
    ///
    /// - `add` of an id that is already live replaces it (a replayed add is harmless);
    /// - `update` of an id that is not live is ignored (the memory was deleted meanwhile);
    /// - `delete` keeps the history's events but erases the texts in them, `purge` drops the history;
    /// - both erase the recorded idempotent answers that name the memory (``IdempotentResponse/isErased``).
    ///
    /// Every operation's memory id is also recorded in ``journal`` (not part of the memories or history).
    public mutating func apply(_ batch: LogBatch) {
        let applied = revision &+ 1
        var erased: Set<UUID> = []
        for op in Self.quantized(batch.operations) {
            journal.record(op.memoryId, revision: applied)
            switch op {
            case .add(let m):
                if positions[m.id] == nil {
                    history[m.id, default: []].append(
                        HistoryEntry(memoryId: m.id, event: .add, oldText: nil, newText: m.text,
                                     at: m.createdAt, eventId: batch.eventId))
                }
                upsert(m)
            case .update(let m):
                guard let old = memory(m.id) else { continue }
                history[m.id, default: []].append(
                    HistoryEntry(memoryId: m.id, event: .update, oldText: old.text, newText: m.text,
                                 at: m.updatedAt, eventId: batch.eventId))
                upsert(m)
            case .delete(let id, let at):
                guard positions[id] != nil else { continue }
                var events = (history[id] ?? []).map { $0.withoutText() }
                events.append(HistoryEntry(memoryId: id, event: .delete, oldText: nil, newText: nil,
                                           at: at, eventId: batch.eventId))
                history[id] = events
                remove(id)
                erased.insert(id)
            case .purge(let id, _):
                remove(id)
                history[id] = nil
                erased.insert(id)
            }
        }
        if !erased.isEmpty { eraseIdempotentResponses(naming: erased) }
        if let key = batch.idempotencyKey, let response = batch.idempotentResponse {
            idempotentResponses[key] = IdempotentResponse(response: response, recordedAt: batch.writtenAt,
                                                          memoryIds: batch.operations.map(\.memoryId))
        }
        revision = applied
        journal.trimIfNeeded()
    }

    /// The changes applied to this state after it was at `revision` in lineage `lineage`, oldest first; `nil`
    /// when this state does not descend from that one or the journal no longer reaches back that far.
    public func changes(since revision: UInt64, lineage: UInt64) -> ArraySlice<ChangeJournal.Change>? {
        guard revision <= self.revision else { return nil }
        return journal.changes(after: revision, lineage: lineage)
    }

    /// Forgets idempotency answers recorded before `cutoff` (compaction calls this).
    public mutating func dropIdempotentResponses(olderThan cutoff: Date) {
        idempotentResponses = idempotentResponses.filter { $0.value.recordedAt >= cutoff }
    }

    private mutating func eraseIdempotentResponses(naming ids: Set<UUID>) {
        for (key, answer) in idempotentResponses where !answer.isErased && answer.memoryIds.contains(where: ids.contains) {
            idempotentResponses[key]?.response = Data()
        }
    }

    private mutating func upsert(_ m: StoredMemory) {
        if let i = positions[m.id] {
            memories[i] = m
        } else {
            positions[m.id] = memories.count
            memories.append(m)
        }
    }

    private mutating func remove(_ id: UUID) {
        guard let i = positions.removeValue(forKey: id) else { return }
        let last = memories.count - 1
        if i != last {
            memories.swapAt(i, last)
            positions[memories[i].id] = i
        }
        memories.removeLast()
    }
}
