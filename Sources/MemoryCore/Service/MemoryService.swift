import Foundation
import Logging
import MemoryStorage
import ModelClients

/// Tunables of the memory service.
public struct MemoryServiceOptions: Sendable {
    /// Without a chat model, `infer: true` skips a user message whose embedding is at least this similar to an
    /// existing memory (near-duplicate suppression).
    public var nearDuplicateSimilarity: Float = 0.95
    /// Partitions whose search index is kept in memory (an agent-wide search over many partitions keeps all of
    /// theirs warm while they fit).
    public var searchIndexCacheCapacity: Int = 2048
    /// The most partitions one filter-scoped read (search, list, export) may open; beyond it the request is a
    /// 400 `too_many_partitions` (deletes are not bounded).
    public var maxFanOutPartitions: Int = 2000
    /// Partitions a fan-out reads (or erases) at once.
    public var fanOutConcurrency: Int = 16
    /// Default recency half-life for search, in days; nil = no recency weighting unless a request asks.
    public var defaultRecencyHalfLifeDays: Double? = nil
    /// Purges per append when erasing many memories (delete-all, delete-entity): a purge record is ~30 bytes,
    /// so an append stays near 1 MB, well inside Azure's 4 MiB block limit.
    public var purgesPerAppend: Int = 30_000
    /// How search ranks (see `docs/retrieval.md`, "Ranking"); benchmarks compare variants through it.
    public var ranking: RankingOptions = .standard

    public init() {}
}

/// The Mem0-compatible memory service: add, search, list, get, update, delete, history, entities, batch and
/// export, over durable partitions. Knows nothing of HTTP: requests come in parsed (``AddRequest``, …), answers
/// go out as domain values (``AddOutcome``, ``MemoryPage``, …) that ``ResponseEncoding`` turns into the JSON
/// shapes of the Mem0 platform API. Every call runs for one tenant (``RequestContext``).
///
/// Errors thrown are ``MemoryServiceError``.
public final class MemoryService: Sendable {
    public let store: PartitionStore
    public let embedder: any Embedder
    public let chat: (any ChatModel)?
    let options: MemoryServiceOptions
    let logger: Logger
    let indexCache: SearchIndexCache

    public init(store: PartitionStore, embedder: any Embedder, chat: (any ChatModel)? = nil,
                options: MemoryServiceOptions = MemoryServiceOptions(), logger: Logger) {
        self.store = store
        self.embedder = embedder
        self.chat = chat
        self.options = options
        self.logger = logger
        self.indexCache = SearchIndexCache(capacity: options.searchIndexCacheCapacity)
    }

    /// The embedding space of this service's embedder, checked against every partition it writes.
    var space: EmbeddingSpace { EmbeddingSpace(model: embedder.model, dimension: embedder.dimension) }
}

/// What a compaction sweep did. Safe to show to whoever triggered it: it names partitions only by tenant, owner
/// kind and a short hash of the id (``PartitionKey/redactedDescription``), never by id.
public struct CompactionSummary: Sendable, Equatable {
    public var partitions: Int
    public var compacted: Int
    public var failed: Int
    /// One line per notable event, for the Functions host's `Logs` array.
    public var messages: [String]

    public init(partitions: Int, compacted: Int, failed: Int, messages: [String]) {
        self.partitions = partitions
        self.compacted = compacted
        self.failed = failed
        self.messages = messages
    }

    /// One line: the counts.
    public var headline: String {
        "compaction: \(partitions) partitions, \(compacted) compacted, \(failed) failed"
    }

}
