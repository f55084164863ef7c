/// The steps of a compaction, in order. A crash hook (``PartitionStoreOptions/compactionCrashHook``) is called
/// after each one so tests can kill the process there.
public enum CompactionStep: String, Sendable, CaseIterable {
    /// A new log generation was created and the manifest switched to it.
    case rotated
    /// The old segments were sealed.
    case sealed
    /// The new snapshot blob was written (not yet referenced).
    case snapshotWritten
    /// The manifest now names the new snapshot and no longer the folded segments.
    case manifestSwapped
    /// Unreferenced blobs older than the grace period were deleted.
    case garbageCollected
}
