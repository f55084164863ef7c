import Foundation
import Logging

/// What a scope-directory pruning or repair did.
public struct ScopeDirectoryReport: Sendable, Equatable {
    /// Partitions whose memories were read.
    public var partitions: Int = 0
    /// Entries written (repair) or deleted (pruning).
    public var entries: Int = 0
    /// Partitions skipped because they could not be read (logged; their entries are left as they are).
    public var failed: Int = 0

    public init(partitions: Int = 0, entries: Int = 0, failed: Int = 0) {
        self.partitions = partitions
        self.entries = entries
        self.failed = failed
    }
}

extension PartitionStore {
    /// The partitions of `tenant` that the scope directory names for `scope` (an agent, app or run id), in
    /// name order. May include partitions that no longer hold such a memory; never misses one that does.
    public func partitions(tenant: String, carrying scope: PartitionOwner) async throws -> [PartitionKey] {
        let prefix = ScopeDirectory.prefix(tenant: tenant, scope: scope)
        let names = try await storage(PartitionKey(tenant: tenant, owner: scope), prefix) {
            try await self.blobs.listNames(prefix: prefix)
        }
        var keys: [PartitionKey] = []
        keys.reserveCapacity(names.count)
        for name in names {
            if let (_, partition) = try await scopeEntry(name, tenant: tenant) { keys.append(partition) }
        }
        return keys
    }

    /// The scope and partition an entry stands for: from its name, or from its content where the name holds a
    /// hashed id segment. Nil for a name that is not an entry, or an entry gone meanwhile.
    func scopeEntry(_ name: String, tenant: String) async throws -> (scope: PartitionOwner, partition: PartitionKey)? {
        guard let parsed = ScopeDirectory.parse(name) else { return nil }
        var scopeId = parsed.scopeId, ownerId = parsed.ownerId
        if scopeId == nil || ownerId == nil {
            let anyKey = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: parsed.scopeKind, id: ""))
            guard let data = try await blobIfPresent(anyKey, name)?.data else { return nil }
            guard let content = try? JSONDecoder().decode(ScopeDirectory.EntryContent.self, from: data) else {
                logger.warning("scope directory entry without readable ids is skipped; `memory-tool scopes repair` rewrites it",
                               metadata: ["blob": "\(name.prefix(200))"])
                return nil
            }
            scopeId = content.scope
            ownerId = content.owner
        }
        guard let scopeId, let ownerId else { return nil }
        return (PartitionOwner(kind: parsed.scopeKind, id: scopeId),
                PartitionKey(tenant: tenant, owner: PartitionOwner(kind: parsed.ownerKind, id: ownerId)))
    }

    /// Puts the scope-directory entries of `batch` that this process has not confirmed recently. Called by
    /// ``write(_:space:_:)`` right before the append, so an acknowledged memory always has its entries.
    func ensureScopeEntries(for batch: LogBatch, in key: PartitionKey) async throws {
        let scopes = ScopeDirectory.scopes(of: batch)
        guard !scopes.isEmpty else { return }
        let entries = Dictionary(scopes.map { (ScopeDirectory.entryName(scope: $0, partition: key),
                                               ScopeDirectory.entryData(scope: $0, partition: key)) },
                                 uniquingKeysWith: { first, _ in first })
        let missing = scopeEntries.stale(Array(entries.keys), interval: options.scopeDirectoryRefreshInterval)
        guard !missing.isEmpty else { return }
        let started = ProcessInfo.processInfo.systemUptime
        try await storage(key, missing[0]) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in missing {
                    // Unconditional: a put refreshes the entry's last-modified time, which pruning respects.
                    group.addTask { try await self.blobs.put(name, data: entries[name] ?? Data(), condition: .none) }
                }
                try await group.waitForAll()
            }
        }
        scopeEntries.confirm(missing, at: started)
        options.scopeDirectoryCrashHook?()
    }

    /// Deletes the scope-directory entries of `tenant` that name a partition holding no live memory with that
    /// scope id any more, once older than twice ``PartitionStoreOptions/scopeDirectoryRefreshInterval``.
    ///
    /// Safe against concurrent writers: a writer puts (or has recently put) the entry before appending, so an
    /// entry that old belongs to no write in flight; each delete carries the `If-Match` of the listed entry, so an
    /// entry a writer refreshed meanwhile stays. A partition that cannot be read keeps its entries.
    public func pruneScopeDirectory(tenant: String) async throws -> ScopeDirectoryReport {
        let prefix = ScopeDirectory.tenantPrefix(tenant)
        let anyKey = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: ""))
        let items = try await storage(anyKey, prefix) { try await self.blobs.listAll(prefix: prefix) }
        let cutoff = Date().addingTimeInterval(-2 * options.scopeDirectoryRefreshInterval)
        var byPartition: [PartitionKey: [(scope: PartitionOwner, item: BlobProperties)]] = [:]
        for item in items where item.lastModified <= cutoff {
            guard let (scope, partition) = try await scopeEntry(item.name, tenant: tenant) else { continue }
            byPartition[partition, default: []].append((scope, item))
        }
        var report = ScopeDirectoryReport()
        for (partition, entries) in byPartition.sorted(by: { $0.key.description < $1.key.description }) {
            guard let present = await liveScopes(partition, &report,
                                                 ifUnreadable: "scope directory: partition unreadable, its entries are kept; the next sweep retries")
            else { continue }
            for (scope, item) in entries where !present.contains(scope) {
                do {
                    try await blobs.delete(item.name, condition: .ifMatch(item.etag))
                    scopeEntries.forget(item.name)
                    report.entries += 1
                } catch BlobStoreError.notFound {
                    continue
                } catch BlobStoreError.conditionNotMet {
                    continue  // a writer refreshed it: it may be about to append
                } catch let e as BlobStoreError {
                    throw PartitionStoreError.storage(partition: partition.description, underlying: e)
                }
            }
        }
        if report.entries > 0 {
            logger.info("scope directory pruned", metadata: [
                "tenant": "\(tenant.prefix(64))", "partitions": "\(report.partitions)", "deleted": "\(report.entries)"])
        }
        return report
    }

    /// Rebuilds the scope directory from the partitions: puts the entry of every indexed scope id that a live
    /// memory carries, in every partition of `tenant` (of every tenant when nil). Entries already there are
    /// refreshed. Extra entries are left to ``pruneScopeDirectory(tenant:)``. The repair for a directory lost or
    /// damaged at rest, and for partitions written before the directory existed.
    public func rebuildScopeDirectory(tenant: String?) async throws -> ScopeDirectoryReport {
        var report = ScopeDirectoryReport()
        for key in try await partitions(tenant: tenant) {
            guard let scopes = await liveScopes(key, &report,
                                                ifUnreadable: "scope directory repair: partition unreadable, its entries are not rebuilt")
            else { continue }
            for scope in scopes.sorted(by: { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }) {
                let name = ScopeDirectory.entryName(scope: scope, partition: key)
                let data = ScopeDirectory.entryData(scope: scope, partition: key)
                try await storage(key, name) { _ = try await self.blobs.put(name, data: data, condition: .none) }
                report.entries += 1
            }
        }
        return report
    }

    /// The indexed scope ids the live memories of `key` carry (counted in `report.partitions`), or nil when the
    /// partition cannot be read (logged with `message`, counted in `report.failed`).
    private func liveScopes(_ key: PartitionKey, _ report: inout ScopeDirectoryReport,
                            ifUnreadable message: Logger.Message) async -> Set<PartitionOwner>? {
        let state: PartitionState
        do { state = try await read(key) } catch {
            report.failed += 1
            logger.error(message, metadata: ["partition": "\(key)", "error": "\(error)"])
            return nil
        }
        report.partitions += 1
        var scopes = Set<PartitionOwner>()
        for m in state.memories { scopes.formUnion(ScopeDirectory.scopes(of: m.scopes)) }
        return scopes
    }
}
