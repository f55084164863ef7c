import Foundation
import Logging

/// `memory-local`'s stand-in for the timer trigger: compacts every tenant's partitions every `interval`
/// (`MEMORY_LOCAL_COMPACT_SECONDS`, default 300 s) until cancelled.
struct CompactionScheduler: Sendable {
    let interval: Duration
    let service: ServiceHandle
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return  // cancelled: shutdown
            }
            do {
                let backend = try await service.backend()
                let summary = await backend.compactAll(tenant: nil)
                logger.info("scheduled compaction", metadata: [
                    "partitions": .stringConvertible(summary.partitions),
                    "compacted": .stringConvertible(summary.compacted),
                    "failed": .stringConvertible(summary.failed),
                ])
            } catch {
                logger.error("scheduled compaction skipped: \(error); the next run retries")
            }
        }
    }
}
