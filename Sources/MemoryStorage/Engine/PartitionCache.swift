import Foundation

/// What a process knows of one partition: the state it has built and how far into each log segment it got.
struct CachedPartition: Sendable {
    var state: PartitionState
    /// The manifest the state was read under; `nil` when the partition does not exist.
    var manifest: Manifest?
    var manifestETag: ETag?
    /// Absolute end offset of the last applied record, per log segment (relative blob name).
    var offsets: [String: Int] = [:]
    /// Segments whose remaining bytes are not valid records (torn or corrupt tail), per segment name.
    var damaged: [String: LogCodec.Damage] = [:]
    /// Whole records that did not decode, per segment name: skipped by reads, and a reason for compaction to
    /// leave the partition's log as it is.
    var unreadable: [String: [LogCodec.UnreadableRecord]] = [:]

    static func empty(_ key: PartitionKey) -> CachedPartition {
        CachedPartition(state: PartitionState(key: key), manifest: nil, manifestETag: nil)
    }
}

/// The per-process cache of partitions. Only the dictionary is guarded, by `lock`; all I/O happens outside it,
/// so requests on different partitions never wait for each other's I/O.
final class PartitionCache: @unchecked Sendable {
    // `@unchecked`: `entries` is only touched while holding `lock`.
    private let lock = NSLock()
    private var entries: [PartitionKey: CachedPartition] = [:]

    func get(_ key: PartitionKey) -> CachedPartition? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    /// Stores `value` unless the cache already holds a state that is further along under the same snapshot.
    func put(_ key: PartitionKey, _ value: CachedPartition) {
        lock.lock()
        defer { lock.unlock() }
        if let old = entries[key], old.manifest?.snapshot?.name == value.manifest?.snapshot?.name,
           old.manifest != nil, value.manifest != nil, old.state.revision > value.state.revision {
            return
        }
        entries[key] = value
    }

    func remove(_ key: PartitionKey) {
        lock.lock()
        defer { lock.unlock() }
        entries[key] = nil
    }
}
