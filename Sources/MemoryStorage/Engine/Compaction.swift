import Foundation
import Logging

extension PartitionStore {
    /// Folds the snapshot and the log into a new snapshot (DESIGN.md §5), then deletes unreferenced blobs older
    /// than the grace period. Idempotent and crash-safe; writers keep appending meanwhile. A partition left with
    /// nothing (no memories, no history) has all its blobs deleted.
    ///
    /// Steps (docs/storage-engine.md): 1. rotate: a new log generation becomes the active segment (manifest
    /// CAS); 2. seal every older segment; 3. fold the snapshot and the sealed segments into a new snapshot blob;
    /// 4. swap the manifest to it (CAS), dropping the folded segments; 5. delete unreferenced older blobs.
    public func compact(_ key: PartitionKey) async throws -> CompactionReport {
        var report = CompactionReport(partition: key, compacted: false, liveMemories: 0, foldedLogBytes: 0,
                                      snapshotBytes: 0, deletedBlobs: 0)
        guard var (m, etag) = try await loadManifest(key) else {
            report.deletedBlobs = try await deleteOrphans(key)
            return report
        }

        // 1. Rotate, unless the active segment is empty (nothing new since the last rotation).
        var rotations = 0
        while try await segmentSize(key, m.active!) > 0 {
            rotations += 1
            if let (m2, e2) = try await rotate(key, m, etag: etag) {
                (m, etag) = (m2, e2)
                break
            }
            guard rotations < 20, let fresh = try await loadManifest(key) else {
                throw PartitionStoreError.contention(partition: key.description, attempts: rotations)
            }
            (m, etag) = fresh
        }
        if rotations > 0 { hook(.rotated) }
        let active = m.active!
        let folded = Array(m.logs.dropLast())
        if folded.isEmpty {
            // Nothing to fold; still erase exports made from an older state, and collect garbage of earlier runs.
            report.liveMemories = m.snapshot?.liveMemories ?? 0
            report.deletedBlobs = try await pruneExports(key, live: try await current(key).state)
            report.deletedBlobs += try await collectGarbage(key)
            return report
        }

        // 2. Seal the folded segments: from now on their contents are final.
        for seg in folded {
            try await storage(key, seg.name) {
                do { try await self.blobs.seal(key.prefix + seg.name) } catch BlobStoreError.notFound {
                    throw PartitionStoreError.corrupt(partition: key.description, blob: key.prefix + seg.name,
                                                      detail: "log segment named by the manifest is missing")
                }
            }
        }
        hook(.sealed)

        // 3. Fold.
        var state: PartitionState
        if let snap = m.snapshot { state = try await loadSnapshot(key, snap.name).state } else { state = PartitionState(key: key) }
        var c = CachedPartition(state: state, manifest: m, manifestETag: etag)
        for seg in folded {
            try await catchUp(key, seg, isActive: false, &c)
            report.foldedLogBytes += c.offsets[seg.name] ?? 0
        }
        if let seg = folded.first(where: { c.unreadable[$0.name] != nil }), let first = c.unreadable[seg.name]?.first {
            // Folding would drop what could not be read: leave the segments (sealed, still named by the manifest,
            // still read) and report, so an operator can look at the record before anything is lost.
            throw PartitionStoreError.unreadableRecords(
                partition: key.description, blob: key.prefix + seg.name, offset: first.offset,
                records: folded.reduce(0) { $0 + (c.unreadable[$1.name]?.count ?? 0) }, detail: first.reason)
        }
        state = c.state
        state.dropIdempotentResponses(olderThan: Date().addingTimeInterval(-options.idempotencyRetention))
        report.liveMemories = state.memories.count

        if state.isEmpty && state.idempotentResponses.isEmpty {
            report.deletedBlobs = try await deleteEmptyPartition(key, folded: m, active: active)
            report.compacted = report.deletedBlobs > 0
            return report
        }

        let snapName = Manifest.snapshotName(generation: active.generation)
        var contents = SnapshotContents(state: state, space: m.embeddingSpace)
        contents.extraSections = derivedSections(for: state)
        let bytes = SnapshotCodec.encode(contents)
        try await storage(key, snapName) {
            _ = try await self.blobs.put(key.prefix + snapName, data: bytes, condition: .ifNoneMatchAny)
        }
        report.snapshotBytes = bytes.count
        hook(.snapshotWritten)

        // 4. Swap the manifest: new snapshot, folded segments dropped, segments added meanwhile kept.
        var swapped = false
        for _ in 0..<50 {
            guard let (latest, latestTag) = try await loadManifest(key), latest.snapshot == m.snapshot else { break }
            var next = latest
            next.snapshot = Manifest.Snapshot(name: snapName, generation: active.generation, revision: state.revision,
                                              bytes: bytes.count, liveMemories: state.memories.count)
            next.logs = latest.logs.filter { $0.generation >= active.generation }
            if try await replaceManifest(key, next, etag: latestTag) != nil {
                swapped = true
                break
            }
        }
        guard swapped else {
            logger.info("compaction superseded: another compaction swapped the manifest first",
                        metadata: ["partition": "\(key)"])
            return report
        }
        try await ensureOwnerEntry(key)
        report.compacted = true
        hook(.manifestSwapped)

        // 5. Garbage: exports holding memories that are gone (at once), and unreferenced blobs of older
        // generations once past the grace period.
        report.deletedBlobs = try await pruneExports(key, live: try await current(key).state)
        report.deletedBlobs += try await collectGarbage(key)
        hook(.garbageCollected)
        logger.info("compacted partition", metadata: [
            "partition": "\(key)", "liveMemories": "\(report.liveMemories)", "foldedLogBytes": "\(report.foldedLogBytes)",
            "snapshotBytes": "\(report.snapshotBytes)", "deletedBlobs": "\(report.deletedBlobs)"])
        return report
    }

    /// The sections ``PartitionStoreOptions/derivedSections`` derives from `state`, of derived kinds only.
    private func derivedSections(for state: PartitionState) -> [SnapshotSection] {
        guard let derive = options.derivedSections else { return [] }
        return derive(state).filter { section in
            guard section.kind >= SnapshotSection.firstDerivedKind else {
                logger.warning("derived snapshot section dropped: its kind is reserved for the storage engine",
                               metadata: ["partition": "\(state.key)", "kind": "\(section.kind)"])
                return false
            }
            return true
        }
    }

    private func hook(_ step: CompactionStep) {
        options.compactionCrashHook?(step)
    }

    private func segmentSize(_ key: PartitionKey, _ seg: Manifest.Segment) async throws -> Int {
        do { return try await blobs.properties(key.prefix + seg.name).size } catch BlobStoreError.notFound {
            return 0
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
    }

    /// Deletes blobs under the partition that the current manifest does not name and that are older than the
    /// grace period: log segments of a generation up to the newest listed one (a segment being created by a
    /// concurrent rotation has a higher generation) and snapshots up to the current snapshot's generation.
    private func collectGarbage(_ key: PartitionKey) async throws -> Int {
        let items = try await storage(key, key.prefix) { try await self.blobs.listAll(prefix: key.prefix) }
        guard let (m, _) = try await loadManifest(key) else { return 0 }
        var referenced = Set(m.logs.map { key.prefix + $0.name })
        if let s = m.snapshot { referenced.insert(key.prefix + s.name) }
        referenced.insert(Manifest.blobName(key))
        let maxLog = m.logs.map(\.generation).max() ?? 0
        let snapGen = m.snapshot?.generation ?? 0
        let cutoff = Date().addingTimeInterval(-options.garbageGracePeriod)
        var deleted = 0
        for item in items where !referenced.contains(item.name) && item.lastModified <= cutoff {
            let relative = String(item.name.dropFirst(key.prefix.count))
            guard let g = Manifest.generation(ofRelativeName: relative) else { continue }
            let garbage = (relative.hasPrefix("log/") && g <= maxLog) || (relative.hasPrefix("snap/") && g <= snapGen)
            if garbage, try await deleteBlob(key, item.name, condition: .ifMatch(item.etag)) { deleted += 1 }
        }
        return deleted
    }

    @discardableResult
    func deleteBlob(_ key: PartitionKey, _ name: String, condition: WriteCondition) async throws -> Bool {
        do {
            try await blobs.delete(name, condition: condition)
            return true
        } catch BlobStoreError.notFound {
            return false
        } catch BlobStoreError.conditionNotMet {
            return false
        } catch let e as BlobStoreError {
            throw PartitionStoreError.storage(partition: key.description, underlying: e)
        }
    }

    /// A partition whose folded state is empty: seal the (empty) active segment so no write can land, then
    /// delete the owner-directory entry, the manifest (CAS) and every blob listed before.
    private func deleteEmptyPartition(_ key: PartitionKey, folded m: Manifest, active: Manifest.Segment) async throws -> Int {
        let activeName = key.prefix + active.name
        try await storage(key, activeName) {
            do { try await self.blobs.seal(activeName) } catch BlobStoreError.notFound {}
        }
        guard try await segmentSize(key, active) == 0 else {
            // A write landed before the seal: the partition is not empty. Writers rotate past the sealed segment;
            // the next compaction folds it.
            return 0
        }
        hook(.sealed)
        let items = try await storage(key, key.prefix) { try await self.blobs.listAll(prefix: key.prefix) }
        guard let (latest, latestTag) = try await loadManifest(key), latest.logs == m.logs, latest.snapshot == m.snapshot else {
            return 0
        }
        var deleted = 0
        if try await deleteBlob(key, OwnerDirectory.entryName(key), condition: .none) { deleted += 1 }
        guard try await deleteBlob(key, Manifest.blobName(key), condition: .ifMatch(latestTag)) else {
            try await ensureOwnerEntry(key)
            return 0
        }
        deleted += 1
        cache.remove(key)
        hook(.manifestSwapped)
        // The owner-id blob goes last: while any blob of the partition is left, a listing can still name it.
        for item in items.sorted(by: { ($0.name == OwnerIdBlob.name(key) ? 1 : 0) < ($1.name == OwnerIdBlob.name(key) ? 1 : 0) })
        where item.name != Manifest.blobName(key) {
            if try await deleteBlob(key, item.name, condition: .none) { deleted += 1 }
        }
        hook(.garbageCollected)
        logger.info("deleted empty partition", metadata: ["partition": "\(key)", "deletedBlobs": "\(deleted)"])
        return deleted
    }

    /// Blobs of a partition without a manifest (a crashed deletion or creation), once past the grace period.
    private func deleteOrphans(_ key: PartitionKey) async throws -> Int {
        let items = try await storage(key, key.prefix) { try await self.blobs.listAll(prefix: key.prefix) }
        let cutoff = Date().addingTimeInterval(-options.garbageGracePeriod)
        var deleted = 0
        let idBlob = OwnerIdBlob.name(key)
        for item in items where item.lastModified <= cutoff && item.name != idBlob {
            if try await deleteBlob(key, item.name, condition: .ifMatch(item.etag)) { deleted += 1 }
        }
        if let id = items.first(where: { $0.name == idBlob }), id.lastModified <= cutoff, deleted == items.count - 1 {
            if try await deleteBlob(key, idBlob, condition: .ifMatch(id.etag)) { deleted += 1 }
        }
        if deleted > 0, try await loadManifest(key) == nil {
            try await deleteBlob(key, OwnerDirectory.entryName(key), condition: .none)
        }
        return deleted
    }
}
