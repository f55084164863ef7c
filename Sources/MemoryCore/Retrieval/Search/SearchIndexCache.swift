import MemoryStorage

/// Keeps the search indexes of the most recently searched partitions, so a search only pays for an index
/// when its partition changed (its revision moved) or it fell out of the cache.
///
/// When the revision moved by a few changes in the same lineage, the new index is derived from the cached
/// one (``PartitionSearchIndex/init(state:updating:)``, cost proportional to the change); otherwise it is
/// built in full. Builds run outside the actor (a detached task per build), so a large partition being indexed
/// never holds up lookups for other partitions, and concurrent searches of the same revision share one build.
public actor SearchIndexCache {
    private struct Entry {
        var revision: UInt64
        /// The base the entry's index has (for a derivation in progress: the base it is expected to keep).
        var origin: IndexOrigin
        var baseCount: Int
        var build: Task<PartitionSearchIndex, Never>
        var lastUse: UInt64
    }

    public let capacity: Int
    private var entries: [PartitionKey: Entry] = [:]
    private var clock: UInt64 = 0
    /// How many indexes were built in full (a cache miss, another lineage, a large change, or a stale
    /// revision): observable for tests and metrics.
    public private(set) var builds = 0
    /// How many indexes were derived from the cached one of an earlier revision.
    public private(set) var incrementalBuilds = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The index for `state`: the cached one if it is of the same revision, else derived from the cached one
    /// or built now.
    public func index(for state: PartitionState) async -> PartitionSearchIndex {
        clock &+= 1
        let cached = entries[state.key]
        if var entry = cached, entry.revision == state.revision {
            entry.lastUse = clock
            entries[state.key] = entry
            return await entry.build.value
        }
        if let cached, cached.revision > state.revision {
            // A reader holding an older state: serve it without evicting the newer index.
            builds += 1
            return await Task.detached(priority: .userInitiated) { PartitionSearchIndex(state: state) }.value
        }
        let entry: Entry
        if let cached, IncrementalIndexPolicy.changes(from: cached.origin, baseCount: cached.baseCount, to: state) != nil {
            incrementalBuilds += 1
            let prior = cached.build
            let build = Task.detached(priority: .userInitiated) { [self] in
                let previous = await prior.value
                if let derived = PartitionSearchIndex(state: state, updating: previous) { return derived }
                let full = PartitionSearchIndex(state: state)
                await self.derivationFellBack(full, key: state.key)
                return full
            }
            entry = Entry(revision: state.revision, origin: cached.origin, baseCount: cached.baseCount, build: build,
                          lastUse: clock)
        } else {
            builds += 1
            let build = Task.detached(priority: .userInitiated) { [self] in
                let full = PartitionSearchIndex(state: state)
                await self.recordBase(of: full, key: state.key)
                return full
            }
            entry = Entry(revision: state.revision, origin: IndexOrigin(lineage: state.journal.lineage, revision: state.revision),
                          baseCount: state.memories.count, build: build, lastUse: clock)
        }
        entries[state.key] = entry
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
        return await entry.build.value
    }

    /// A derivation that turned out impossible built `full` instead: count it as such and record its base.
    private func derivationFellBack(_ full: PartitionSearchIndex, key: PartitionKey) {
        incrementalBuilds -= 1
        builds += 1
        recordBase(of: full, key: key)
    }

    /// Records the base `index` was built with (a full build over a state loaded from a snapshot may keep
    /// the snapshot's base and add a tail), so later derivations are decided against it.
    private func recordBase(of index: PartitionSearchIndex, key: PartitionKey) {
        if var entry = entries[key], entry.revision == index.revision {
            entry.origin = index.origin
            entry.baseCount = index.baseCount
            entries[key] = entry
        }
    }
}
