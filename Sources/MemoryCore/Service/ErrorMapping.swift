import Foundation
import MemoryStorage
import ModelClients

extension MemoryServiceError {
    /// Turns any error from the layers below into the service's error, with words for the person on call.
    static func from(_ error: any Error, tenant: String) -> MemoryServiceError {
        switch error {
        case let e as MemoryServiceError:
            return e
        case let e as FilterError:
            return .invalidFilters(e)
        case let e as PartitionStoreError:
            switch e {
            case .embeddingSpaceMismatch(let partition, let stored, let requested):
                return MemoryServiceError(
                    .conflict, code: "embedding_model_mismatch",
                    detail: "partition \(partition) holds vectors of \(stored.model) (\(stored.dimension)-d) but this "
                        + "service embeds with \(requested.model) (\(requested.dimension)-d); configure "
                        + "MEMORY_EMBEDDER to the partition's model, or export and re-add its memories")
            case .contention(let partition, let attempts):
                return MemoryServiceError(
                    .unavailable, code: "write_contention",
                    detail: "partition \(partition) had \(attempts) concurrent writes in a row; retry the request",
                    retryAfter: 1)
            case .corrupt(let partition, let blob, let detail):
                return MemoryServiceError(
                    .unavailable, code: "storage_corrupt",
                    detail: "partition \(partition): blob \(blob) is unreadable (\(detail)); run compaction or restore it")
            case .batchTooLarge(let partition, let bytes, let limit):
                return .invalid(
                    "this request would write \(bytes) bytes to partition \(partition) in one append, more than the "
                        + "storage's \(limit); nothing was written: send fewer memories (or shorter texts) per request",
                    code: "batch_too_large")
            case .recordRejected(let partition, let detail):
                return .invalid("partition \(partition): the request cannot be stored as a readable record (\(detail)); "
                                + "nothing was written", code: "record_rejected")
            case .unreadableRecords(let partition, let blob, let offset, let records, let detail):
                return MemoryServiceError(
                    .unavailable, code: "unreadable_records",
                    detail: "partition \(partition): \(records) whole log record(s) do not decode (first in \(blob) at offset "
                        + "\(offset): \(detail)); reads skip them and compaction leaves the log as it is — inspect with "
                        + "`memory-tool dump`")
            case .storage(let partition, let underlying):
                return MemoryServiceError(
                    .unavailable, code: "storage_unavailable",
                    detail: "storage failed for partition \(partition): \(underlying)", retryAfter: 2)
            }
        case let e as InferError:
            switch e {
            case .model(_, let underlying):
                var mapped = from(underlying, tenant: tenant)
                mapped.detail = "\(e.description); nothing was written"
                return mapped
            case .malformedAnswer:
                return MemoryServiceError(.upstream, code: "model_malformed_answer",
                                          detail: "\(e.description) (or send infer=false)")
            case .promptMissing:
                return MemoryServiceError(.unavailable, code: "infer_prompt_missing",
                                          detail: "\(e.description); the deployment is incomplete, redeploy the package")
            }
        case let e as BlobStoreError:
            return MemoryServiceError(.unavailable, code: "storage_unavailable",
                                      detail: "storage failed for tenant \(tenant): \(e)", retryAfter: 2)
        case let e as ModelClientError:
            switch e {
            case .rateLimited(_, let retryAfter):
                return MemoryServiceError(.upstream, code: "model_rate_limited", detail: e.description,
                                          retryAfter: retryAfter ?? 5)
            case .notConfigured:
                return MemoryServiceError(.unavailable, code: "model_not_configured", detail: e.description)
            case .rejected(_, let status, _) where status == 400 || status == 413:
                return .invalid(e.description, code: "model_rejected_input")
            default:
                return MemoryServiceError(.upstream, code: "model_error", detail: e.description)
            }
        default:
            return MemoryServiceError(.unavailable, code: "internal_error",
                                      detail: "unexpected failure for tenant \(tenant): \(error)")
        }
    }
}

extension MemoryService {
    /// Runs `body`, converting every error into a ``MemoryServiceError`` and logging server-side failures.
    func guarded<T>(_ operation: String, _ context: RequestContext, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            let mapped = MemoryServiceError.from(error, tenant: context.tenant)
            if mapped.kind == .unavailable || mapped.kind == .upstream {
                logger.error("\(operation) failed", metadata: [
                    "tenant": .string(context.tenant), "request_id": .string(context.requestId),
                    "code": .string(mapped.code), "error": .string(mapped.detail),
                ])
            }
            throw mapped
        }
    }
}
