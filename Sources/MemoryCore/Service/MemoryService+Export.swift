import Foundation
import MemoryStorage

extension MemoryService {
    /// `POST /v1/exports/` with `{"schema": {…}, "filters": {…}}`: computes the export at once (all memories the
    /// filters reach, across partitions as a search would) and stores it with one of their partitions for
    /// `POST /v1/exports/get/`. A stored export is erased with its memories: the first compaction of its partition
    /// after one of them is deleted, wherever it lives, deletes the export
    /// (``PartitionStore/putExport(_:id:memoryIds:document:)``). Answers `{"message","id"}`.
    public func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("createExport", context) {
            guard case .object? = body["schema"] else {
                throw MemoryServiceError.invalid("`schema` is required and must be a JSON object", code: "missing_schema")
            }
            guard let filters = body["filters"], case .object = filters else {
                throw MemoryServiceError.invalid("`filters` is required and must name user_id, agent_id, app_id or run_id",
                                                 code: "missing_filters")
            }
            let (home, memories) = try await exportMemories(filters, context)
            guard let key = home else {
                throw MemoryServiceError.notFound("these filters reach no partition of this tenant: nothing to export",
                                                  code: "nothing_to_export")
            }
            // The export id carries the partition's owner hint, like a memory id, so `get` finds it from the id.
            let id = key.owner.newMemoryId()
            let document: JSONValue = .object([
                "id": .string(id.uuidString.lowercased()), "schema": body["schema"] ?? .null, "filters": filters,
                "created_at": .string(ISODates.format(context.now)), "count": .number(Double(memories.count)),
                "memories": .array(memories.map { .object(MemoryJSON.item($0)) }),
            ])
            try await store.putExport(key, id: id, memoryIds: memories.map(\.id), document: document.encoded())
            return .object([
                "message": .string("Memory export request received. The export will be ready in a few seconds."),
                "id": .string(id.uuidString.lowercased()),
            ])
        }
    }

    /// `POST /v1/exports/get/` with `{"memory_export_id"}` (a stored export) or `{"filters"}` (computed now).
    public func getExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("getExport", context) {
            if case .string(let s)? = body["memory_export_id"] {
                let id = try parseMemoryId(s)
                for key in try await store.partitions(tenant: context.tenant, idHintHex: PartitionOwner.idHintHex(of: id))
                    where BoundUserRule.allows(key, context) {
                    if let document = try await store.export(key, id: id) { return try JSONValue.decode(document) }
                }
                throw MemoryServiceError.notFound(
                    "no memory export \(id.uuidString.lowercased()) for this tenant (never made, or erased with its memories)",
                    code: "export_not_found")
            }
            guard let filters = body["filters"], case .object = filters else {
                throw MemoryServiceError.invalid("send `memory_export_id` or `filters`", code: "missing_filters")
            }
            let (_, memories) = try await exportMemories(filters, context)
            return .object(["count": .number(Double(memories.count)),
                            "memories": .array(memories.map { .object(MemoryJSON.item($0)) })])
        }
    }

    /// Every memory (expired included) matching `filters`, over every partition they reach, oldest first, and
    /// the partition a stored export of them lives in: the one holding the first of them (or the first
    /// partition read, when there are none; nil when the filters reach no partition at all).
    func exportMemories(_ filters: JSONValue, _ context: RequestContext) async throws -> (PartitionKey?, [StoredMemory]) {
        let filter = try MemoryFilter.parse(filters)
        let keys = try await partitions(for: filter, context)
        let perPartition = try await mapPartitions(keys) { state in state.memories.filter(filter.matches) }
        let memories = perPartition.joined()
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        let home = zip(keys, perPartition).first { !$0.1.isEmpty }?.0 ?? keys.first
        return (home, memories)
    }
}
