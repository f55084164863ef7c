import Foundation

/// The scope directory: per tenant, for each `agent_id`, `app_id` and `run_id`, the partitions that hold memories
/// carrying it, so agent-, app- and run-wide reads and deletes know which partitions to open.
///
/// One small block blob per (scope id, partition): `t/{tenant}/s/{scope kind}/{scope seg}/{owner kind}/{owner seg}`
/// (ids as ``BlobNameEscaping/segment(_:)`` names them, so any id the API accepts fits); the blob holds both ids
/// (``EntryContent``), which listings read where a segment is a hash. A partition's own id is listed too (`s/agent/A/agent/A` for a memory of
/// agent A without a user), so the directory alone names every partition. Format and crash safety:
/// docs/scope-directory.md.
///
/// Invariant: an entry may be extra (its partition no longer holds such a memory, or the append after it never
/// happened) but is never missing for an acknowledged write, because ``PartitionStore/write(_:space:_:)`` puts
/// the entries of a batch before appending it, and pruning only removes entries older than twice
/// ``PartitionStoreOptions/scopeDirectoryRefreshInterval`` (see ``PartitionStore/pruneScopeDirectory(tenant:)``).
enum ScopeDirectory {
    /// The scope kinds the directory indexes: a user's memories all live in the user's own partition.
    static let indexedKinds: [OwnerKind] = [.agent, .app, .run]

    static func tenantPrefix(_ tenant: String) -> String {
        "t/\(BlobNameEscaping.escape(tenant))/s/"
    }

    /// Where the entries of one scope id live: listing it names the partitions.
    static func prefix(tenant: String, scope: PartitionOwner) -> String {
        tenantPrefix(tenant) + scope.kind.rawValue + "/" + BlobNameEscaping.segment(scope.id) + "/"
    }

    static func entryName(scope: PartitionOwner, partition: PartitionKey) -> String {
        prefix(tenant: partition.tenant, scope: scope) + partition.owner.kind.rawValue + "/"
            + BlobNameEscaping.segment(partition.owner.id)
    }

    /// What an entry blob holds: both ids, as JSON `{"scope": …, "owner": …}`.
    struct EntryContent: Codable, Equatable {
        var scope: String
        var owner: String
    }

    static func entryData(scope: PartitionOwner, partition: PartitionKey) -> Data {
        (try? JSONEncoder().encode(EntryContent(scope: scope.id, owner: partition.owner.id))) ?? Data()
    }

    /// What an entry's name says: the kinds, and each id unless its segment is a hash (then nil: read the
    /// entry's content).
    struct ParsedName {
        var scopeKind: OwnerKind
        var scopeId: String?
        var ownerKind: OwnerKind
        var ownerId: String?
    }

    static func parse(_ name: String) -> ParsedName? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "t", parts[2] == "s",
              let scopeKind = OwnerKind(rawValue: String(parts[3])), indexedKinds.contains(scopeKind),
              let ownerKind = OwnerKind(rawValue: String(parts[5])) else { return nil }
        func id(_ segment: Substring) -> String?? {
            if BlobNameEscaping.isHashedSegment(segment) { return .some(nil) }
            return BlobNameEscaping.unescape(String(segment)).map { .some($0) }
        }
        guard let scopeId = id(parts[4]), let ownerId = id(parts[6]) else { return nil }
        return ParsedName(scopeKind: scopeKind, scopeId: scopeId, ownerKind: ownerKind, ownerId: ownerId)
    }

    /// The indexed scope ids one memory carries.
    static func scopes(of scopes: MemoryScopes) -> [PartitionOwner] {
        indexedKinds.compactMap { kind in scopes[kind].map { PartitionOwner(kind: kind, id: $0) } }
    }

    /// The indexed scope ids the memories a batch adds or rewrites carry, without repeats.
    static func scopes(of batch: LogBatch) -> [PartitionOwner] {
        var seen = Set<PartitionOwner>()
        var result: [PartitionOwner] = []
        for op in batch.operations {
            switch op {
            case .add(let m), .update(let m):
                for s in scopes(of: m.scopes) where seen.insert(s).inserted { result.append(s) }
            case .delete, .purge:
                continue
            }
        }
        return result
    }
}

/// Which scope-directory entries this process wrote recently, so a write does not put the same entry before
/// every append. An entry confirmed less than ``PartitionStoreOptions/scopeDirectoryRefreshInterval`` ago is
/// trusted; pruning never deletes an entry younger than twice that interval, so a trusted entry still exists.
/// Times are this process's uptime (monotonic), never the wall clock.
final class ScopeEntryCache: @unchecked Sendable {
    // `@unchecked`: `confirmed` is only touched while holding `lock`.
    private let lock = NSLock()
    private var confirmed: [String: TimeInterval] = [:]

    /// Entries of `names` not confirmed within `interval`.
    func stale(_ names: [String], interval: TimeInterval) -> [String] {
        let now = ProcessInfo.processInfo.systemUptime
        lock.lock()
        defer { lock.unlock() }
        return names.filter { name in confirmed[name].map { now - $0 >= interval } ?? true }
    }

    /// Records that `names` were written at `time` (an uptime taken before the writes started).
    func confirm(_ names: [String], at time: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        for name in names { confirmed[name] = max(confirmed[name] ?? 0, time) }
    }

    func forget(_ name: String) {
        lock.lock()
        defer { lock.unlock() }
        confirmed[name] = nil
    }
}
