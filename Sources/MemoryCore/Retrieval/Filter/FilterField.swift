import Foundation
import JSONModel
import MemoryStorage

/// A field a filter condition reads from a memory.
enum FilterField: Sendable, Hashable, CustomStringConvertible {
    /// `user_id`, `agent_id`, `app_id`, `run_id` (alias `session_id`).
    case scope(OwnerKind)
    /// `created_at` (alias `timestamp`).
    case createdAt
    case updatedAt
    case expirationDate
    /// The memory's category list.
    case categories
    /// The memory text: `memory`, `text`, `keywords`.
    case text
    /// The memory id (`id`, `memory_id`, `memory_ids`), compared as lower-case UUID text.
    case id
    /// `{"metadata": "*"}`: the metadata object as a whole.
    case metadataRoot
    /// One top-level metadata key.
    case metadata(String)

    var isDate: Bool {
        switch self {
        case .createdAt, .updatedAt, .expirationDate: return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case .scope(let kind): return "\(kind.rawValue)_id"
        case .createdAt: return "created_at"
        case .updatedAt: return "updated_at"
        case .expirationDate: return "expiration_date"
        case .categories: return "categories"
        case .text: return "memory"
        case .id: return "id"
        case .metadataRoot: return "metadata"
        case .metadata(let key): return "metadata.\(key)"
        }
    }

    /// The field's value in `memory` as JSON, `nil` when absent. Dates are not read through here.
    func jsonValue(of memory: StoredMemory) -> JSONValue? {
        switch self {
        case .scope(let kind): return memory.scopes[kind].map(JSONValue.string)
        case .categories: return memory.categories.isEmpty ? nil : .array(memory.categories.map(JSONValue.string))
        case .text: return .string(memory.text)
        case .id: return .string(memory.id.uuidString.lowercased())
        case .metadataRoot:
            if case .object(let o) = memory.metadata, !o.isEmpty { return memory.metadata }
            return nil
        case .metadata(let key): return memory.metadata[key]
        case .createdAt, .updatedAt, .expirationDate: return nil
        }
    }

    /// The field's instant in `memory` (seconds since 1970), for date fields; `nil` when absent.
    func dateValue(of memory: StoredMemory) -> Double? {
        switch self {
        case .createdAt: return memory.createdAt.timeIntervalSince1970
        case .updatedAt: return memory.updatedAt.timeIntervalSince1970
        case .expirationDate: return memory.expirationDate?.timeIntervalSince1970
        default: return nil
        }
    }
}
