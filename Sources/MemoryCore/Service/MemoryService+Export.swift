import Foundation
import MemoryStorage

extension MemoryService {
    /// `POST /v1/exports/` with `{"schema": {…}, "filters": {…}}`: computes the export at once (all memories of
    /// the pinned partition matching the filters) and stores it with that partition for `POST /v1/exports/get/`.
    /// A stored export is erased with its memories: the first compaction after one of them is deleted deletes
    /// the export (``PartitionStore/putExport(_:id:memoryIds:document:)``). Answers `{"message","id"}`.
    public func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("createExport", context) {
            guard case .object? = body["schema"] else {
                throw MemoryServiceError.invalid("`schema` is required and must be a JSON object", code: "missing_schema")
            }
            guard let filters = body["filters"], case .object = filters else {
                throw MemoryServiceError.invalid("`filters` is required and must name user_id, agent_id, app_id or run_id",
                                                 code: "missing_filters")
            }
            let (key, memories) = try await exportMemories(filters, context)
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
                for key in try await store.partitions(tenant: context.tenant, idHintHex: PartitionOwner.idHintHex(of: id)) {
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

    /// Every memory (expired included) of the pinned partition matching `filters`, oldest first.
    func exportMemories(_ filters: JSONValue, _ context: RequestContext) async throws -> (PartitionKey, [StoredMemory]) {
        let key = try partition(forFilters: filters, context)
        let filter = try MemoryFilter.parse(filters)
        let state = try await store.read(key)
        let memories = state.memories.filter(filter.matches)
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        return (key, memories)
    }
}
