import Foundation
import JSONModel
import MemoryStorage

extension MemoryService {
    /// `POST /v1/exports/` with `{"schema": {…}, "filters": {…}}`: computes the export at once (all memories the
    /// filters reach, across partitions as a search would) and stores it with one of their partitions for
    /// `POST /v1/exports/get/`. A stored export is erased with its memories: the first compaction of its partition
    /// after one of them is deleted, wherever it lives, deletes the export
    /// (``PartitionStore/putExport(_:id:memoryIds:document:)``).
    public func createExport(_ request: ExportRequest, _ context: RequestContext) async throws -> ExportReceipt {
        try await guarded("createExport", context) {
            let (home, memories) = try await exportMemories(request.filter, context)
            guard let key = home else {
                throw MemoryServiceError.notFound("these filters reach no partition of this tenant: nothing to export",
                                                  code: "nothing_to_export")
            }
            // The export id carries the partition's owner hint, like a memory id, so `get` finds it from the id.
            let id = key.owner.newMemoryId()
            let document = ResponseEncoding.exportDocument(id: id, request: request, createdAt: context.now, memories: memories)
            try await store.putExport(key, id: id, memoryIds: memories.map(\.id), document: document.encoded())
            return ExportReceipt(id: id)
        }
    }

    /// `POST /v1/exports/get/`: a stored export by id, or the memories the filters reach now.
    public func getExport(_ lookup: ExportLookup, _ context: RequestContext) async throws -> ExportContents {
        try await guarded("getExport", context) {
            switch lookup {
            case .stored(let id):
                for key in try await store.partitions(tenant: context.tenant, idHintHex: PartitionOwner.idHintHex(of: id))
                    where BoundUserRule.allows(key, context) {
                    if let document = try await store.export(key, id: id) { return .stored(try JSONValue.decode(document)) }
                }
                throw MemoryServiceError.notFound(
                    "no memory export \(id.uuidString.lowercased()) for this tenant (never made, or erased with its memories)",
                    code: "export_not_found")
            case .filters(let filter):
                return .computed(try await exportMemories(filter, context).1)
            }
        }
    }

    /// Every memory (expired included) matching `filter`, over every partition it reaches, oldest first, and
    /// the partition a stored export of them lives in: the one holding the first of them (or the first
    /// partition read, when there are none; nil when the filters reach no partition at all).
    func exportMemories(_ filter: MemoryFilter, _ context: RequestContext) async throws -> (PartitionKey?, [StoredMemory]) {
        let keys = try await partitions(for: filter, context)
        let perPartition = try await mapPartitions(keys) { state in state.memories.filter(filter.matches) }
        let memories = perPartition.joined()
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        let home = zip(keys, perPartition).first { !$0.1.isEmpty }?.0 ?? keys.first
        return (home, memories)
    }
}
