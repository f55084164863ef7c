import Foundation
import JSONModel
import MemoryStorage
@testable import MemoryCore

/// Short reads of the service's answers for assertions.
extension MemoryPage {
    var texts: [String] { items.map(\.text) }
}

extension SearchResults {
    var texts: [String] { hits.map(\.memory.text) }
}

extension WriteAnswer where Value == AddOutcome {
    /// The events of an applied add (empty for a replay).
    var events: [MemoryEvent] { applied?.events ?? [] }
    /// The memory ids as the wire shows them.
    var ids: [String] { events.map { $0.id.uuidString.lowercased() } }
}

extension MemoryTimeline {
    var events: [String] { entries.map(\.event.rawValue) }
}

/// The JSON-bodied calls tests write most, parsed the way the HTTP layer parses them.
extension MemoryService {
    func deleteAll(scopes: MemoryScopes, _ context: RequestContext) async throws -> Deletion {
        try await deleteAll(DeleteAllRequest(scopes: scopes), context)
    }

    func deleteEntity(type: String, id: String, _ context: RequestContext) async throws -> Deletion {
        try await deleteEntity(try EntityReference(type: type, id: id), context)
    }

    func batchUpdate(_ body: JSONValue, _ context: RequestContext) async throws -> BatchOutcome {
        try await batchUpdate(try BatchUpdateRequest(json: body), context)
    }

    func batchDelete(_ body: JSONValue, _ context: RequestContext) async throws -> BatchOutcome {
        try await batchDelete(try BatchDeleteRequest(json: body), context)
    }

    func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> ExportReceipt {
        try await createExport(try ExportRequest(json: body), context)
    }

    func getExport(_ body: JSONValue, _ context: RequestContext) async throws -> ExportContents {
        try await getExport(try ExportLookup(json: body), context)
    }
}

extension ExportContents {
    /// The memories' texts, whether stored or computed now.
    var texts: [String] {
        switch self {
        case .computed(let memories): return memories.map(\.text)
        case .stored(let document): return document["memories"]?.arrayValue?.compactMap { $0["memory"]?.stringValue } ?? []
        }
    }
}
