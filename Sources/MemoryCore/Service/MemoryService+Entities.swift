import Foundation
import MemoryStorage

extension MemoryService {
    /// `GET /v1/entities/`: one entry per user, agent, app and run id that live memories carry, wherever they
    /// live (an agent that only wrote into user partitions is listed too), with its memory count.
    /// Answers `{"count","next","previous","results":[{"id","name","type","owner","created_at","updated_at",
    /// "total_memories","metadata"}],"total_users","total_agents","total_apps","total_runs"}`.
    public func entities(_ context: RequestContext) async throws -> JSONValue {
        try await guarded("entities", context) {
            var tally = EntityTally()
            let keys = try await store.partitions(tenant: context.tenant)
            for partial in try await mapPartitions(keys, { EntityTally($0.memories) }) { tally.merge(partial) }
            var results: [JSONValue] = []
            var totals: [OwnerKind: Int] = [:]
            for (entity, entry) in tally.sorted {
                totals[entity.kind, default: 0] += 1
                results.append(.object([
                    "id": .string(entity.id), "name": .string(entity.id), "type": .string(entity.kind.rawValue),
                    "owner": .string(context.tenant), "created_at": .string(ISODates.format(entry.createdAt)),
                    "updated_at": .string(ISODates.format(entry.updatedAt)),
                    "total_memories": .number(Double(entry.count)), "metadata": .null,
                ]))
            }
            return .object([
                "count": .number(Double(results.count)), "next": .null, "previous": .null, "results": .array(results),
                "total_users": .number(Double(totals[.user] ?? 0)), "total_agents": .number(Double(totals[.agent] ?? 0)),
                "total_apps": .number(Double(totals[.app] ?? 0)), "total_runs": .number(Double(totals[.run] ?? 0)),
            ])
        }
    }

    /// Compacts every partition of `tenant` (of every tenant when nil). With `force` false, only partitions the
    /// store considers worth it are folded. Never throws: failures are logged and counted.
    public func compactAll(tenant: String?, force: Bool = false) async -> CompactionSummary {
        var summary = CompactionSummary(partitions: 0, compacted: 0, failed: 0, messages: [])
        let keys: [PartitionKey]
        do {
            keys = try await store.partitions(tenant: tenant)
        } catch {
            logger.error("compaction sweep could not list partitions; the next run retries",
                         metadata: ["tenant": .string(tenant ?? "*"), "error": .string("\(error)")])
            summary.failed = 1
            summary.messages.append("listing partitions failed: \(error)")
            return summary
        }
        for key in keys {
            summary.partitions += 1
            do {
                let report = try await store.compact(key)
                if report.compacted {
                    summary.compacted += 1
                    summary.messages.append("compacted \(key): \(report.liveMemories) memories, "
                                            + "\(report.foldedLogBytes) log bytes folded, \(report.deletedBlobs) blobs deleted")
                }
            } catch {
                summary.failed += 1
                summary.messages.append("compaction of \(key) failed: \(error)")
                logger.error("compaction failed; the partition stays readable and the next run retries",
                             metadata: ["partition": .string(key.description), "error": .string("\(error)")])
            }
        }
        await pruneScopeDirectories(of: Set(keys.map(\.tenant)).union(tenant.map { [$0] } ?? []), into: &summary)
        return summary
    }
}
