import Foundation
import MemoryStorage

extension MemoryService {
    /// Where an export's result is kept: `t/{tenant}/exports/{id}.json`.
    static func exportBlobName(tenant: String, id: UUID) -> String {
        "t/\(BlobNameEscaping.escape(tenant))/exports/\(id.uuidString.lowercased()).json"
    }

    /// `POST /v1/exports/` with `{"schema": {…}, "filters": {…}}`: computes the export at once (all memories of
    /// the pinned partition matching the filters) and keeps it for `POST /v1/exports/get/`.
    /// Answers `{"message","id"}`.
    public func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("createExport", context) {
            guard case .object? = body["schema"] else {
                throw MemoryServiceError.invalid("`schema` is required and must be a JSON object", code: "missing_schema")
            }
            guard let filters = body["filters"], case .object = filters else {
                throw MemoryServiceError.invalid("`filters` is required and must name user_id, agent_id, app_id or run_id",
                                                 code: "missing_filters")
            }
            let memories = try await exportMemories(filters, context)
            let id = UUID()
            let document: JSONValue = .object([
                "id": .string(id.uuidString.lowercased()), "schema": body["schema"] ?? .null, "filters": filters,
                "created_at": .string(ISODates.format(context.now)), "count": .number(Double(memories.count)),
                "memories": .array(memories),
            ])
            try await store.blobs.put(Self.exportBlobName(tenant: context.tenant, id: id), data: document.encoded(),
                                      condition: .ifNoneMatchAny)
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
                do {
                    return try JSONValue.decode(try await store.blobs.get(Self.exportBlobName(tenant: context.tenant, id: id)).data)
                } catch BlobStoreError.notFound {
                    throw MemoryServiceError.notFound("no memory export \(s) for this tenant", code: "export_not_found")
                }
            }
            guard let filters = body["filters"], case .object = filters else {
                throw MemoryServiceError.invalid("send `memory_export_id` or `filters`", code: "missing_filters")
            }
            let memories = try await exportMemories(filters, context)
            return .object(["count": .number(Double(memories.count)), "memories": .array(memories)])
        }
    }

    /// Every memory (expired included) matching `filters`, over every partition they reach, oldest first.
    func exportMemories(_ filters: JSONValue, _ context: RequestContext) async throws -> [JSONValue] {
        let filter = try MemoryFilter.parse(filters)
        let keys = try await partitions(for: filter, context)
        return try await mapPartitions(keys) { state in state.memories.filter(filter.matches) }.joined()
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
            .map { .object(MemoryJSON.item($0)) }
    }
}
