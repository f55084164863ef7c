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
    /// One write would append more bytes than the blob store takes in one block; nothing was written.
    case batchTooLarge(partition: String, bytes: Int, limit: Int)
    /// A write whose record the reader would not decode (outside ``RecordLimits``); nothing was written.
    case recordRejected(partition: String, detail: String)
    /// Compaction found whole log records that do not decode and left the partition as it was, so that nothing
    /// it could not read is dropped. `records` counts them; `blob` and `offset` name the first.
    case unreadableRecords(partition: String, blob: String, offset: Int, records: Int, detail: String)
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
    /// How many lost append races a write tolerates before giving up with ``PartitionStoreError/contention``.
    public var maxWriteAttempts: Int = 500
    /// Called after each compaction step; the process tests use it to exit the process at a named step.
    public var compactionCrashHook: (@Sendable (CompactionStep) -> Void)? = nil
    /// Data a layer above derives from the memories (for example the retrieval layer's BM25 postings), stored
    /// in the snapshot so that a process opening the partition need not derive it again. Compaction calls it
    /// with the state it writes; the sections describe that state's memories in its order, which is the
    /// snapshot's record order. Only kinds ≥ ``SnapshotSection/firstDerivedKind`` are stored (others are
    /// dropped with a warning). The storage layer never reads these sections: a loaded state hands them back
    /// untouched in ``PartitionState/snapshotBase``.
    public var derivedSections: (@Sendable (PartitionState) -> [SnapshotSection])? = nil
    /// A process writes a scope-directory entry again before an append when it last wrote it longer ago than
    /// this; pruning deletes only entries older than twice this (docs/scope-directory.md). Must exceed by far
    /// the longest time one write takes between its directory update and its append.
    public var scopeDirectoryRefreshInterval: TimeInterval = 300
    /// Called after a write put its scope-directory entries, before its append; the process tests use it to
    /// kill a writer exactly there.
    public var scopeDirectoryCrashHook: (@Sendable () -> Void)? = nil

    public init() {}
}


/// Durable partitions over a ``BlobStore``: manifest + append-log generations + snapshots.
///
/// Safe with many processes on many machines at once: all coordination goes through the blob protocol
/// (compare-and-swap on the manifest, expected-position appends). Each process caches partitions it has read
/// and picks up the log tail on every ``read(_:)``, so a write acknowledged anywhere is seen by the next read.
/// The cache is guarded by a lock held only for dictionary access; I/O never runs under it.
public final class PartitionStore: Sendable {
    public let blobs: any BlobStore
    public let options: PartitionStoreOptions
    let logger: Logger
    let cache = PartitionCache()
    /// Writers of each partition queued for group commit (``GroupCommitQueues``).
    let commits = GroupCommitQueues()
    /// Scope-directory entries this process wrote recently (see ``ScopeEntryCache``).
    let scopeEntries = ScopeEntryCache()

    public init(blobs: any BlobStore, options: PartitionStoreOptions = PartitionStoreOptions(), logger: Logger) {
        self.blobs = blobs
        self.options = options
        self.logger = logger
    }

    /// The partition's latest state (an empty state when it does not exist yet).
    public func read(_ key: PartitionKey) async throws -> PartitionState {
        try await current(key).state
    }

    /// Serialised write: `body` sees the latest state and decides a batch; the batch is appended at the exact log
    /// position that state ended at. If another writer got there first, the tail is re-read and `body` called
    /// again, so `body` must be a pure function of the state. Creates the partition (and its owner-directory
    /// entry) on first write, and puts the batch's scope-directory entries before appending it
    /// (``ScopeDirectory``). `space` is checked against (or recorded in) the manifest.
    ///
    /// Writes to one partition that arrive together in this process are group-committed (``leadGroup(_:leader:compute:)``):
    /// `body` then sees the state including the batches of the writes queued before it, and all their records go
    /// in one append. Each write still gets its own answer, returns only once its batch is durable, and fails —
    /// with nothing acknowledged — when the shared append fails. The returned state includes the write's batch.
    public func write<R: Sendable>(
        _ key: PartitionKey, space: EmbeddingSpace?, _ body: (PartitionState) throws -> WriteDecision<R>
    ) async throws -> (result: R, state: PartitionState) {
        let member = CommitMember(space: space)
        let limit = blobs.maxAppendBlockBytes
        var decided: Result<WriteDecision<R>, any Error>? = nil
        func contribute(_ state: PartitionState) -> CommitContribution {
            do {
                let decision = try body(state)
                decided = .success(decision)
                guard case .append(let batch, _) = decision else { return .nothing }
                let frame: Data
                do { frame = try LogCodec.encodeVerified(batch) } catch {
                    throw PartitionStoreError.recordRejected(partition: key.description, detail: "\(error)")
                }
                guard frame.count <= limit else {
                    throw PartitionStoreError.batchTooLarge(partition: key.description, bytes: frame.count, limit: limit)
                }
                return .append(batch, frame: frame)
            } catch {
                decided = .failure(error)
                return .nothing
            }
        }
        let outcome: CommitOutcome
        if commits.join(key, member) {
            outcome = await leadGroup(key, leader: member, compute: contribute)
        } else {
            outcome = await follow(key, member, compute: contribute)
        }
        switch (outcome, decided) {
        case (.failed(let error), _), (.committed, .failure(let error)?):
            throw error
        case (.committed(let state), .success(.append(_, let result))?), (.committed(let state), .success(.skip(let result))?):
            return (result, state)
        case (.committed, nil):
            preconditionFailure("group commit acknowledged a write that never decided")
        }
    }

    /// A queued writer: decides its batch whenever its group's leader asks, until the group ends for it or it
    /// is asked to lead the next group.
    private func follow(_ key: PartitionKey, _ member: CommitMember,
                        compute: (PartitionState) -> CommitContribution) async -> CommitOutcome {
        while true {
            switch await member.inbox.receive() {
            case .lead:
                return await leadGroup(key, leader: member, compute: compute)
            case .compute(let handoff, let reply):
                // The state is taken out of the handoff and released when `compute` returns, before the reply.
                reply.send(compute(handoff.take()))
            case .finished(let outcome):
                return outcome
            }
        }
    }

    /// Partitions of a tenant whose owner carries this id hint (``PartitionOwner/idHintHex``): where to look
    /// for a memory given only its id.
    public func partitions(tenant: String, idHintHex: String) async throws -> [PartitionKey] {
        let prefix = OwnerDirectory.prefix(tenant: tenant, idHintHex: idHintHex)
        let anyKey = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: ""))
        let names = try await storage(anyKey, prefix) { try await self.blobs.listNames(prefix: prefix) }
        var keys: [PartitionKey] = []
        for name in names {
            guard let (kind, id) = OwnerDirectory.parse(entry: name) else { continue }
            if let id {
                keys.append(PartitionKey(tenant: tenant, owner: PartitionOwner(kind: kind, id: id)))
            } else if let stored = try await storedId(anyKey, name) {
                keys.append(PartitionKey(tenant: tenant, owner: PartitionOwner(kind: kind, id: stored)))
            }
        }
        return keys
    }

    /// The owner id stored in `blob` (an owner entry or an `owner-id` blob); nil when it is gone or empty.
    private func storedId(_ key: PartitionKey, _ blob: String) async throws -> String? {
        guard let data = try await blobIfPresent(key, blob)?.data, !data.isEmpty else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The blob, or nil when it does not exist; other storage errors are wrapped with the partition.
    func blobIfPresent(_ key: PartitionKey, _ name: String) async throws -> BlobContent? {
        do { return try await blobs.get(name) } catch BlobStoreError.notFound {
            return nil
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
    }

    /// Every partition of a tenant, or of every tenant when `tenant` is nil (the compaction timer's sweep).
    /// A partition is listed when any blob lies under its prefix (so leftovers of a crashed deletion are found).
    public func partitions(tenant: String?) async throws -> [PartitionKey] {
        let prefix = tenant.map { PartitionKey.tenantPrefix($0) } ?? "t/"
        let anyKey = PartitionKey(tenant: tenant ?? "", owner: PartitionOwner(kind: .user, id: ""))
        let names = try await storage(anyKey, prefix) { try await self.blobs.listNames(prefix: prefix) }
        var seen = Set<PartitionKey>()
        var seenHashed = Set<String>()
        var result: [PartitionKey] = []
        for name in names {
            // t/{tenant}/p/{kind}/{id segment}/...
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[0] == "t", parts[2] == "p",
                  let t = BlobNameEscaping.unescape(String(parts[1])),
                  let kind = OwnerKind(rawValue: String(parts[3])) else { continue }
            let id: String
            if BlobNameEscaping.isHashedSegment(parts[4]) {
                let prefix = parts[0..<5].joined(separator: "/") + "/"
                guard seenHashed.insert(prefix).inserted else { continue }
                guard let stored = try await storedId(anyKey, prefix + "owner-id") else {
                    logger.warning("partition blobs without an owner-id blob are skipped; delete them by hand if they stay",
                                   metadata: ["prefix": "\(prefix.prefix(200))"])
                    continue
                }
                id = stored
            } else {
                guard let unescaped = BlobNameEscaping.unescape(String(parts[4])) else { continue }
                id = unescaped
            }
            let key = PartitionKey(tenant: t, owner: PartitionOwner(kind: kind, id: id))
            if seen.insert(key).inserted { result.append(key) }
        }
        return result
    }

    // MARK: - Internals shared with compaction

    /// Runs a blob call, wrapping its error with the partition.
    func storage<T>(_ key: PartitionKey, _ blob: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
    }

    func ignoringExists(_ body: () async throws -> Void) async throws {
        do { try await body() } catch BlobStoreError.alreadyExists {}
    }

    func backoff(_ attempt: Int) async {
        guard attempt > 2 else { return }
        let cap = min(20_000, 200 * attempt)
        try? await Task.sleep(nanoseconds: UInt64(Int.random(in: 0...cap)) * 1000)
    }

    /// The manifest and its ETag, or nil when the partition does not exist. With `cached`, a manifest read at
    /// the same ETag is reused instead of decoded again (a fan-out reads hundreds of unchanged manifests).
    func loadManifest(_ key: PartitionKey, cached: CachedPartition? = nil) async throws -> (Manifest, ETag)? {
        let content: BlobContent
        do { content = try await blobs.get(Manifest.blobName(key)) } catch BlobStoreError.notFound {
            return nil
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
        if let cached, cached.manifestETag == content.etag, let m = cached.manifest { return (m, content.etag) }
        return (try Manifest.decode(content.data, key: key), content.etag)
    }

    /// Replaces the manifest with `If-Match`; a lost race is not an error (the caller re-reads).
    @discardableResult
    func replaceManifest(_ key: PartitionKey, _ m: Manifest, etag: ETag) async throws -> ETag? {
        var m = m
        m.version += 1
        m.updatedAt = Date()
        do {
            return try await blobs.put(Manifest.blobName(key), data: m.encoded(), condition: .ifMatch(etag))
        } catch BlobStoreError.conditionNotMet {
            return nil
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
    }

    /// Writes the owner-directory entry (and, for a hashed id segment, the partition's `owner-id` blob first).
    func ensureOwnerEntry(_ key: PartitionKey) async throws {
        let id = Data(key.owner.id.utf8)
        if BlobNameEscaping.isHashedSegment(Substring(BlobNameEscaping.segment(key.owner.id))) {
            let idBlob = OwnerIdBlob.name(key)
            try await storage(key, idBlob) {
                try await ignoringExists { try await self.blobs.put(idBlob, data: id, condition: .ifNoneMatchAny) }
            }
        }
        let name = OwnerDirectory.entryName(key)
        try await storage(key, name) {
            try await ignoringExists { try await self.blobs.put(name, data: id, condition: .ifNoneMatchAny) }
        }
    }

    func createPartition(_ key: PartitionKey, space: EmbeddingSpace?) async throws {
        try await ensureOwnerEntry(key)
        let m = Manifest.new(key, space: space)
        try await storage(key, m.logs[0].name) {
            try await ignoringExists { try await self.blobs.createAppendBlob(key.prefix + m.logs[0].name, condition: .ifNoneMatchAny) }
            try await ignoringExists { try await self.blobs.put(Manifest.blobName(key), data: m.encoded(), condition: .ifNoneMatchAny) }
        }
        logger.info("created partition", metadata: ["partition": "\(key)"])
    }

    /// Starts a new log generation: creates its segment, then switches the manifest to it (CAS). Returns the
    /// new manifest's ETag, or nil when the manifest changed meanwhile.
    @discardableResult
    func rotate(_ key: PartitionKey, _ manifest: Manifest, etag: ETag) async throws -> (Manifest, ETag)? {
        var m = manifest
        let seg = Manifest.Segment(generation: m.nextGeneration, name: Manifest.segmentName(generation: m.nextGeneration))
        try await storage(key, seg.name) {
            _ = try await self.blobs.createAppendBlob(key.prefix + seg.name, condition: .ifNoneMatchAny)
        }
        m.logs.append(seg)
        m.nextGeneration += 1
        try await ensureOwnerEntry(key)
        guard let newTag = try await replaceManifest(key, m, etag: etag) else { return nil }
        m.version += 1
        return (m, newTag)
    }

    /// The latest state: the cached one plus the log tail, or a fresh load when the snapshot changed.
    ///
    /// A blob named by the manifest that has vanished is normally a compaction that swapped the manifest and
    /// collected the old blobs between our manifest read and our blob read (possible with a short grace
    /// period): re-read the manifest and try again before reporting it.
    func current(_ key: PartitionKey) async throws -> CachedPartition {
        var attempt = 0
        while true {
            do {
                let c = try await refresh(key, from: cache.get(key))
                cache.put(key, c)
                return c
            } catch let e as PartitionStoreError where e.isMissingBlob && attempt < 5 {
                attempt += 1
                logger.debug("blob vanished during refresh; re-reading the manifest", metadata: ["partition": "\(key)", "error": "\(e)"])
            }
        }
    }

    func refresh(_ key: PartitionKey, from cached: CachedPartition?) async throws -> CachedPartition {
        guard let (m, etag) = try await loadManifest(key, cached: cached) else { return .empty(key) }
        var c: CachedPartition
        // The cached state stays valid while the snapshot is the same (and, without a snapshot, the first
        // segment too: a partition deleted and created again gets new segment names).
        if let cached, let old = cached.manifest, old.snapshot?.name == m.snapshot?.name,
           old.snapshot != nil || m.logs.contains(where: { $0.name == old.logs.first?.name }) {
            c = cached
        } else if let snap = m.snapshot {
            let contents = try await loadSnapshot(key, snap.name)
            c = CachedPartition(state: contents.state, manifest: m, manifestETag: etag)
        } else {
            c = .empty(key)
        }
        c.manifest = m
        c.manifestETag = etag
        for seg in m.logs {
            try await catchUp(key, seg, isActive: seg == m.active, &c)
        }
        return c
    }

    /// Applies the records of `seg` past what `c` has applied.
    func catchUp(_ key: PartitionKey, _ seg: Manifest.Segment, isActive: Bool, _ c: inout CachedPartition) async throws {
        if c.damaged[seg.name] != nil { return }
        let from = c.offsets[seg.name] ?? 0
        let name = key.prefix + seg.name
        let content: BlobContent
        do {
            content = try await blobs.get(name, range: from..<Int.max)
        } catch BlobStoreError.invalidRange {
            return  // nothing new
        } catch BlobStoreError.notFound {
            if isActive { return }  // a new generation whose segment is not created yet: empty
            throw PartitionStoreError.corrupt(
                partition: key.description, blob: name,
                detail: "log segment named by the manifest is missing; acknowledged writes in it are lost — restore the blob or remove it from the manifest")
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
        let decoded = LogCodec.decode(content.data, base: from)
        for (batch, _) in decoded.batches { c.state.apply(batch) }
        c.offsets[seg.name] = decoded.validEnd
        for record in decoded.unreadable {
            c.unreadable[seg.name, default: []].append(record)
            logger.error(
                "log record is whole (frame and CRC intact) but does not decode; it is skipped, the records after it are applied, and compaction will leave this partition's log as it is until the record is dealt with (memory-tool dump shows it)",
                metadata: ["partition": "\(key)", "blob": "\(name)", "offset": "\(record.offset)",
                           "length": "\(record.length)", "reason": "\(record.reason)"])
        }
        if let damage = decoded.damage {
            c.damaged[seg.name] = damage
            logger.warning(
                "log segment has a torn or corrupt tail; the bytes from this offset are skipped and the next write starts a new generation",
                metadata: ["partition": "\(key)", "blob": "\(name)", "offset": "\(damage.offset)",
                           "reason": "\(damage.reason)", "skippedBytes": "\(from + content.data.count - damage.offset)"])
        }
    }

    func loadSnapshot(_ key: PartitionKey, _ relativeName: String) async throws -> SnapshotContents {
        let name = key.prefix + relativeName
        let content = try await storage(key, name) { try await self.blobs.get(name) }
        do { return try SnapshotCodec.decode(content.data, key: key) } catch let e as SnapshotFormatError {
            throw PartitionStoreError.corrupt(partition: key.description, blob: name, detail: e.detail)
        }
    }
}

extension PartitionStoreError {
    /// A blob the manifest named was not found (it may have been collected after a manifest change).
    var isMissingBlob: Bool {
        switch self {
        case .storage(_, .notFound): return true
        case .corrupt(_, _, let detail): return detail.hasPrefix("log segment named by the manifest is missing")
        default: return false
        }
    }
}
