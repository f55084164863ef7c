import Foundation
import Logging

/// The embedding model and dimension a partition's vectors were made with. Stored in the manifest; writing
/// vectors of another space is refused with ``PartitionStoreError/embeddingSpaceMismatch``.
public struct EmbeddingSpace: Sendable, Hashable, Codable {
    public var model: String
    public var dimension: Int

    public init(model: String, dimension: Int) {
        self.model = model
        self.dimension = dimension
    }
}

/// What a ``PartitionStore/write(_:space:_:)`` body decides after looking at the latest state.
public enum WriteDecision<Result: Sendable>: Sendable {
    /// Append this batch, then return the result.
    case append(LogBatch, Result)
    /// Write nothing (for example: an idempotent retry, or nothing to change), return the result.
    case skip(Result)
}

/// Errors of the partition layer, each naming the partition.
public enum PartitionStoreError: Error, Sendable, Equatable {
    case embeddingSpaceMismatch(partition: String, stored: EmbeddingSpace, requested: EmbeddingSpace)
    /// A snapshot or manifest failed its checksum or could not be parsed.
    case corrupt(partition: String, blob: String, detail: String)
    /// Too many lost races in a row (heavy contention); the caller may retry.
    case contention(partition: String, attempts: Int)
    case storage(partition: String, underlying: BlobStoreError)
}

/// What one compaction did.
public struct CompactionReport: Sendable, Equatable {
    public var partition: PartitionKey
    /// False when there was nothing to fold.
    public var compacted: Bool
    public var liveMemories: Int
    public var foldedLogBytes: Int
    public var snapshotBytes: Int
    public var deletedBlobs: Int

    public init(partition: PartitionKey, compacted: Bool, liveMemories: Int, foldedLogBytes: Int,
                snapshotBytes: Int, deletedBlobs: Int) {
        self.partition = partition
        self.compacted = compacted
        self.liveMemories = liveMemories
        self.foldedLogBytes = foldedLogBytes
        self.snapshotBytes = snapshotBytes
        self.deletedBlobs = deletedBlobs
    }
}

/// Tunables of the partition layer.
public struct PartitionStoreOptions: Sendable {
    /// How long blobs no manifest references are kept before compaction deletes them (readers may still be
    /// reading them).
    public var garbageGracePeriod: TimeInterval = 600
    /// How long idempotency answers are kept.
    public var idempotencyRetention: TimeInterval = 24 * 3600
    /// Compaction is worth it once the active log holds this many bytes.
    public var compactionLogBytesThreshold: Int = 4 << 20

    public init() {}
}

/// Durable partitions over a ``BlobStore``: manifest + append-log generations + snapshots.
///
/// Safe with many processes on many machines at once: all coordination goes through the blob protocol
/// (compare-and-swap on the manifest, expected-position appends). Each process caches partitions it has read
/// and picks up the log tail on every ``read(_:)``, so a write acknowledged anywhere is seen by the next read.
public final class PartitionStore: Sendable {
    public let blobs: any BlobStore

    public init(blobs: any BlobStore, options: PartitionStoreOptions = PartitionStoreOptions(), logger: Logger) {
        self.blobs = blobs
        fatalError("PartitionStore is being built")
    }

    /// The partition's latest state (an empty state when it does not exist yet).
    public func read(_ key: PartitionKey) async throws -> PartitionState {
        fatalError("PartitionStore is being built")
    }

    /// Serialised write: `body` sees the latest state and decides a batch; the batch is appended at the exact log
    /// position that state ended at. If another writer got there first, the tail is re-read and `body` called
    /// again, so `body` must be a pure function of the state. Creates the partition (and its owner-directory
    /// entry) on first write. `space` is checked against (or recorded in) the manifest.
    public func write<R: Sendable>(
        _ key: PartitionKey, space: EmbeddingSpace?, _ body: (PartitionState) throws -> WriteDecision<R>
    ) async throws -> (result: R, state: PartitionState) {
        fatalError("PartitionStore is being built")
    }

    /// Folds the snapshot and the log into a new snapshot (DESIGN.md §5), then deletes unreferenced blobs older
    /// than the grace period. Idempotent and crash-safe; writers keep appending meanwhile. A partition left with
    /// nothing (no memories, no history) has all its blobs deleted.
    public func compact(_ key: PartitionKey) async throws -> CompactionReport {
        fatalError("PartitionStore is being built")
    }

    /// Partitions of a tenant whose owner carries this id hint (``PartitionOwner/idHintHex``): where to look
    /// for a memory given only its id.
    public func partitions(tenant: String, idHintHex: String) async throws -> [PartitionKey] {
        fatalError("PartitionStore is being built")
    }

    /// Every partition of a tenant, or of every tenant when `tenant` is nil (the compaction timer's sweep).
    public func partitions(tenant: String?) async throws -> [PartitionKey] {
        fatalError("PartitionStore is being built")
    }
}
