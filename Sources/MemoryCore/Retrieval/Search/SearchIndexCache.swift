import MemoryStorage

/// Keeps the search indexes of the most recently searched partitions, so a search only pays for building an
/// index when its partition changed (its revision moved) or it fell out of the cache.
public actor SearchIndexCache {
    private struct Entry {
        var index: PartitionSearchIndex
        var lastUse: UInt64
    }

    public let capacity: Int
    private var entries: [PartitionKey: Entry] = [:]
    private var clock: UInt64 = 0
    /// How many indexes were built (a cache miss or a stale revision): observable for tests and metrics.
    public private(set) var builds = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The index for `state`, built now if the cached one is missing or from another revision.
    public func index(for state: PartitionState) -> PartitionSearchIndex {
        clock &+= 1
        if var entry = entries[state.key], entry.index.revision == state.revision {
            entry.lastUse = clock
            entries[state.key] = entry
            return entry.index
        }
        let index = PartitionSearchIndex(state: state)
        builds += 1
        entries[state.key] = Entry(index: index, lastUse: clock)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
        return index
    }

    /// Drops a partition's index (e.g. after it was erased).
    public func invalidate(_ key: PartitionKey) {
        entries[key] = nil
    }
}
