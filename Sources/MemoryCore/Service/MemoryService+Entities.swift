import Foundation
import MemoryStorage

extension MemoryService {
    /// `GET /v1/entities/`: one entry per user, agent, app and run id that live memories carry, wherever they
    /// live (an agent that only wrote into user partitions is listed too), with its memory count.
    public func entities(_ context: RequestContext) async throws -> EntityList {
        try await guarded("entities", context) {
            try BoundUserRule.checkTenantWide(context, verb: "the entity listing")
            var tally = EntityTally()
            let keys = try await store.partitions(tenant: context.tenant)
            for partial in try await mapPartitions(keys, { EntityTally($0.memories) }) { tally.merge(partial) }
            return EntityList(tenant: context.tenant, entities: tally.sorted.map { entity, entry in
                EntitySummary(kind: entity.kind, id: entity.id, memoryCount: entry.count,
                              createdAt: entry.createdAt, updatedAt: entry.updatedAt)
            })
        }
    }

    /// Compacts every partition of `tenant` (every tenant when nil: the timer's sweep). Never throws: failures
    /// are counted and described (without ids) in the summary, and logged with the partition (id capped).
    public func compactAll(tenant: String?) async -> CompactionSummary {
        var summary = CompactionSummary(partitions: 0, compacted: 0, failed: 0, messages: [])
        let keys: [PartitionKey]
        do {
            keys = try await store.partitions(tenant: tenant)
        } catch {
            logger.error("compaction sweep could not list partitions; the next run retries",
                         metadata: ["tenant": .string(tenant ?? "*"), "error": .string("\(error)")])
            summary.failed = 1
            summary.messages.append("listing partitions failed: \(Self.failureReason(error)); check the storage "
                                    + "account is reachable, the next run retries")
            return summary
        }
        for key in keys {
            summary.partitions += 1
            do {
                let report = try await store.compact(key)
                if report.compacted {
                    summary.compacted += 1
                    summary.messages.append("compacted \(key.redactedDescription): \(report.liveMemories) memories, "
                                            + "\(report.foldedLogBytes) log bytes folded, \(report.deletedBlobs) blobs deleted")
                }
            } catch {
                summary.failed += 1
                summary.messages.append("compaction of \(key.redactedDescription) failed: \(Self.failureReason(error))")
                logger.error("compaction failed; the partition stays readable and the next run retries",
                             metadata: ["partition": .string(key.description), "error": .string("\(error)")])
            }
        }
        await pruneScopeDirectories(of: Set(keys.map(\.tenant)).union(tenant.map { [$0] } ?? []), into: &summary)
        return summary
    }

    /// Why a compaction failed, in words that name no partition, blob or id, and what to do.
    static func failureReason(_ error: any Error) -> String {
        switch error {
        case let e as PartitionStoreError:
            switch e {
            case .storage: return "storage unavailable (the next run retries; check the storage account if it persists)"
            case .contention: return "too many concurrent writes (the next run retries)"
            case .corrupt: return "a blob is unreadable (see the handler's error log for the blob; restore it)"
            case .unreadableRecords(_, _, _, let records, _):
                return "\(records) log record(s) do not decode; the log is left as it is (inspect with `memory-tool dump`)"
            case .embeddingSpaceMismatch, .batchTooLarge, .recordRejected: return "\(e)"
            }
        case is BlobStoreError: return "storage unavailable (the next run retries)"
        default: return "unexpected error (see the handler's error log)"
        }
    }
}
