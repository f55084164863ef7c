import Foundation
import JSONModel
import MemoryStorage

/// `POST /v1/exports/`: `{"schema": {…}, "filters": {…}}`. The schema and filters are kept as sent (the stored
/// export quotes them) and the filters parsed.
public struct ExportRequest: Sendable {
    public var schema: JSONValue
    public var filters: JSONValue
    public var filter: MemoryFilter

    public init(json: JSONValue) throws(MemoryServiceError) {
        guard let schema = json["schema"], case .object = schema else {
            throw .invalid("`schema` is required and must be a JSON object", code: "missing_schema")
        }
        guard let filters = json["filters"], case .object = filters else {
            throw .invalid("`filters` is required and must name user_id, agent_id, app_id or run_id", code: "missing_filters")
        }
        self.schema = schema
        self.filters = filters
        self.filter = try MemoryFilter.parseRequest(filters)
    }
}

/// `POST /v1/exports/get/`: a stored export by `memory_export_id`, or the memories `filters` reach now.
public enum ExportLookup: Sendable {
    case stored(UUID)
    case filters(MemoryFilter)

    public init(json: JSONValue) throws(MemoryServiceError) {
        if let id = json["memory_export_id"], !id.isNull {
            guard let s = id.stringValue else {
                throw .invalid("`memory_export_id` must be a string (the export's id)", code: "invalid_field")
            }
            self = .stored(try parseMemoryId(s))
            return
        }
        guard let filters = json["filters"], case .object = filters else {
            throw .invalid("send `memory_export_id` or `filters`", code: "missing_filters")
        }
        self = .filters(try MemoryFilter.parseRequest(filters))
    }
}
