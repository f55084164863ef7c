import Foundation

/// The history of every memory of a partition, oldest entry first, keyed by memory id. Reads like a
/// dictionary (`history[id]`, `history[id, default: []].append(…)`).
///
/// Histories that came from a snapshot stay encoded in it until asked for (``SnapshotHistorySection``); every
/// change since is kept beside them. Opening a large partition therefore costs nothing for histories, and
/// only the history endpoint and compaction pay to decode them.
public struct MemoryHistory: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var snapshot: SnapshotHistorySection?
    /// Histories set since the snapshot (they win over the snapshot's).
    private var changed: [UUID: [HistoryEntry]]
    /// Snapshot histories dropped since (purged memories).
    private var erased: Set<UUID>
    /// Number of memories with a history.
    public private(set) var count: Int

    public init() {
        self.init([:])
    }

    public init(_ histories: [UUID: [HistoryEntry]]) {
        snapshot = nil
        changed = histories
        erased = []
        count = histories.count
    }

    public init(dictionaryLiteral elements: (UUID, [HistoryEntry])...) {
        self.init(Dictionary(elements, uniquingKeysWith: { $1 }))
    }

    init(snapshot: SnapshotHistorySection) {
        self.snapshot = snapshot
        changed = [:]
        erased = []
        count = snapshot.count
    }

    public var isEmpty: Bool { count == 0 }

    /// The history of `id`; setting `nil` forgets it.
    public subscript(id: UUID) -> [HistoryEntry]? {
        get {
            if let entries = changed[id] { return entries }
            if erased.contains(id) { return nil }
            return snapshot?.entries(id)
        }
        set {
            let existed = changed[id] != nil || (!erased.contains(id) && snapshot?.contains(id) == true)
            if let newValue {
                changed[id] = newValue
                erased.remove(id)
                if !existed { count += 1 }
            } else {
                changed[id] = nil
                if snapshot?.contains(id) == true { erased.insert(id) }
                if existed { count -= 1 }
            }
        }
    }

    public subscript(id: UUID, default defaultValue: @autoclosure () -> [HistoryEntry]) -> [HistoryEntry] {
        get { self[id] ?? defaultValue() }
        set { self[id] = newValue }
    }

    /// Every history, decoded (compaction writes them into the next snapshot).
    public var all: [UUID: [HistoryEntry]] {
        var out = snapshot?.all() ?? [:]
        for id in erased { out[id] = nil }
        for (id, entries) in changed { out[id] = entries }
        return out
    }

    public static func == (l: MemoryHistory, r: MemoryHistory) -> Bool {
        l.count == r.count && l.all == r.all
    }
}
