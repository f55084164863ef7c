import MemoryStorage

extension MemoryService {
    /// The partition-store options the service expects: `base` with compaction storing the retrieval layer's
    /// derived sections (the BM25 postings, ``BM25SnapshotSection``), so the first search after a process
    /// opens a large partition does not tokenise every memory again.
    public static func storeOptions(_ base: PartitionStoreOptions = PartitionStoreOptions()) -> PartitionStoreOptions {
        var options = base
        options.derivedSections = { state in BM25SnapshotSection.sections(for: state) }
        return options
    }
}
