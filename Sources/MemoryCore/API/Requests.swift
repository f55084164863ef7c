import Foundation
import JSONModel
import MemoryStorage

/// One conversation message of an add request (and of the infer pipeline's input): `user`, `assistant` or
/// `system` (system messages are never stored or mined for facts).
public struct InputMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// `POST /v3/memories/add/`.
public struct AddRequest: Sendable {
    public var messages: [InputMessage]
    public var scopes: MemoryScopes
    public var metadata: JSONValue
    public var expirationDate: Date?
    /// `infer` (default true): extract facts with the chat model, or (without one) store the user's messages
    /// with duplicate suppression. `false`: every non-system message becomes a memory verbatim.
    public var infer: Bool
    public var customInstructions: String?
    public var includes: String?
    public var excludes: String?
    /// `timestamp` (epoch seconds): backdates `created_at`.
    public var timestamp: Date?
    public var idempotencyKey: String?

    public static let maxMessages = 200
    public static let maxMessageLength = 32_000

    public init(messages: [InputMessage], scopes: MemoryScopes, metadata: JSONValue = .null,
                expirationDate: Date? = nil, infer: Bool = true, customInstructions: String? = nil,
                includes: String? = nil, excludes: String? = nil, timestamp: Date? = nil, idempotencyKey: String? = nil) {
        self.messages = messages
        self.scopes = scopes
        self.metadata = metadata
        self.expirationDate = expirationDate
        self.infer = infer
        self.customInstructions = customInstructions
        self.includes = includes
        self.excludes = excludes
        self.timestamp = timestamp
        self.idempotencyKey = idempotencyKey
    }

    public init(json: JSONValue) throws(MemoryServiceError) {
        let r = try FieldReader(json, context: "add")
        guard let raw = r.object["messages"], !raw.isNull else {
            throw .invalid("`messages` is required: a non-empty array of {role, content}", code: "missing_messages")
        }
        var messages: [InputMessage] = []
        switch raw {
        case .string(let s):
            guard s.unicodeScalars.count <= Self.maxMessageLength else {
                throw .invalid("`messages` is longer than \(Self.maxMessageLength) characters", code: "invalid_field")
            }
            messages = [InputMessage(role: "user", content: s)]
        case .array(let items):
            guard items.count <= Self.maxMessages else {
                throw .invalid("`messages` has \(items.count) items; at most \(Self.maxMessages) are accepted", code: "invalid_field")
            }
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item, case .string(let role)? = o["role"], case .string(let content)? = o["content"] else {
                    throw .invalid("`messages[\(i)]` must be an object with string `role` and `content`", code: "invalid_field")
                }
                guard ["user", "assistant", "system"].contains(role) else {
                    throw .invalid("`messages[\(i)].role` must be user, assistant or system, got '\(role.prefix(20))'", code: "invalid_field")
                }
                guard content.unicodeScalars.count <= Self.maxMessageLength else {
                    throw .invalid("`messages[\(i)].content` is longer than \(Self.maxMessageLength) characters", code: "invalid_field")
                }
                messages.append(InputMessage(role: role, content: content))
            }
        default: throw .invalid("`messages` must be an array of {role, content}", code: "invalid_field")
        }
        guard !messages.isEmpty else { throw .invalid("`messages` must not be empty", code: "missing_messages") }
        let scopes = try Self.scopes(top: try r.scopes(), filters: try r.object("filters"))
        guard !scopes.isEmpty else {
            throw .invalid("name at least one of user_id, agent_id, app_id, run_id (at the top level or in `filters`)",
                           code: "missing_entity_id")
        }
        let metadata: JSONValue = try r.metadata().map { .object($0) } ?? .null
        self.init(
            messages: messages, scopes: scopes, metadata: metadata, expirationDate: try r.date("expiration_date"),
            infer: try r.bool("infer") ?? true, customInstructions: try r.string("custom_instructions", maxLength: 8000),
            includes: try r.string("includes", maxLength: 4000), excludes: try r.string("excludes", maxLength: 4000),
            timestamp: try r.date("timestamp"), idempotencyKey: try r.string("idempotency_key", maxLength: 200))
    }
}

/// `POST /v3/memories/search/`.
public struct SearchRequest: Sendable {
    public var query: String
    /// The request's `filters` (with top-level scope ids folded in), ANDed with its `categories` and
    /// `metadata` clauses: one tree, parsed here (so search, list and export share one grammar).
    public var filter: MemoryFilter
    public var topK: Int
    /// Minimum fused score in [0, 1]; Mem0's default is 0.1.
    public var threshold: Double
    public var showExpired: Bool
    /// Extension: `explain: true` returns the scoring inputs.
    public var explain: Bool
    /// Extension: `search_mode` `hybrid` (default), `vector` or `keyword`; Mem0's `keyword_search: true` = keyword.
    public var mode: SearchMode
    /// Extension: `recency_half_life_days`, off when nil.
    public var recencyHalfLifeDays: Double?
    /// Extension: `max_tokens`: also return the results as one prompt-ready text block within this budget.
    public var maxTokens: Int?
    /// `reference_date`: search as of this instant (expiry is judged against it).
    public var referenceDate: Date?

    public init(json: JSONValue) throws(MemoryServiceError) {
        let r = try FieldReader(json, context: "search")
        guard let q = try r.string("query", maxLength: 8000), !q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalid("`query` is required and must be a non-empty string", code: "missing_query")
        }
        query = q
        let filters = try r.filtersWithTopLevelScopes()
        topK = try r.int("top_k", range: 1...1000) ?? 10
        threshold = try r.number("threshold", range: 0...1) ?? 0.1
        showExpired = try r.bool("show_expired") ?? false
        explain = try r.bool("explain") ?? false
        // `search_mode` is checked even when Mem0's `keyword_search: true` overrides it.
        let requestedMode = try r.string("search_mode", maxLength: 20) ?? "hybrid"
        guard ["hybrid", "vector", "keyword"].contains(requestedMode) else {
            throw .invalid("`search_mode` must be hybrid, vector or keyword", code: "invalid_field")
        }
        mode = try r.bool("keyword_search") == true ? .keyword : SearchMode(rawValue: requestedMode) ?? .hybrid
        recencyHalfLifeDays = try r.number("recency_half_life_days", range: 0.001...36500)
        maxTokens = try r.int("max_tokens", range: 1...100_000)
        referenceDate = try r.date("reference_date")
        let categories = try r.stringArray("categories")
        let metadata = try r.metadata()
        var filter = try MemoryFilter.parseRequest(filters)
        do {
            if let categories, !categories.isEmpty { filter = filter.and(.anyCategory(categories)) }
            if let metadata, !metadata.isEmpty { filter = filter.and(try .metadataConditions(metadata)) }
        } catch {
            throw MemoryServiceError.invalidFilters(error)
        }
        self.filter = filter
    }
}

/// `POST /v3/memories/` (get all, paginated).
public struct ListRequest: Sendable {
    /// The request's `filters` with top-level scope ids folded in.
    public var filter: MemoryFilter
    public var page: Int
    public var pageSize: Int
    public var showExpired: Bool
    public var startDate: Date?
    public var endDate: Date?
    public var categories: [String]?
    public var keywords: String?

    public static let maxPageSize = 1000

    /// `query` holds the URL query parameters (`page`, `page_size` win over the body's).
    public init(json: JSONValue, query: [String: String] = [:]) throws(MemoryServiceError) {
        let r = try FieldReader(json, context: "list")
        let filters = try r.filtersWithTopLevelScopes()
        func queryInt(_ name: String, _ range: ClosedRange<Int>) throws(MemoryServiceError) -> Int? {
            guard let s = query[name] else { return nil }
            guard let i = Int(s), range.contains(i) else {
                throw .invalid("query parameter `\(name)` must be an integer in \(range.lowerBound)...\(range.upperBound)", code: "invalid_field")
            }
            return i
        }
        let bodyPage = try r.int("page", range: 1...1_000_000)
        let bodyPageSize = try r.int("page_size", range: 1...Self.maxPageSize)
        page = try queryInt("page", 1...1_000_000) ?? bodyPage ?? 1
        pageSize = try queryInt("page_size", 1...Self.maxPageSize) ?? bodyPageSize ?? 100
        showExpired = try r.bool("show_expired") ?? false
        startDate = try r.date("start_date")
        endDate = try r.date("end_date")
        categories = try r.stringArray("categories")
        keywords = try r.string("keywords", maxLength: 1000)
        filter = try MemoryFilter.parseRequest(filters)
    }
}

/// How an update treats `expiration_date`.
public enum ExpirationChange: Sendable, Equatable {
    case unchanged
    case set(Date)
    case clear
}

/// `PUT /v1/memories/{id}/` and one item of `PUT /v1/batch/`.
public struct UpdateRequest: Sendable {
    public var text: String?
    /// Merged into the existing metadata (keys set to null are removed).
    public var metadata: [String: JSONValue]?
    public var expiration: ExpirationChange
    public var idempotencyKey: String?

    public init(text: String? = nil, metadata: [String: JSONValue]? = nil, expiration: ExpirationChange = .unchanged) {
        self.text = text
        self.metadata = metadata
        self.expiration = expiration
    }

    public init(json: JSONValue) throws(MemoryServiceError) {
        let r = try FieldReader(json, context: "update")
        let memoryField = try r.string("memory", maxLength: AddRequest.maxMessageLength)
        text = try r.string("text", maxLength: AddRequest.maxMessageLength) ?? memoryField
        if let t = text, t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .invalid("`text` must not be empty", code: "invalid_field")
        }
        metadata = try r.metadata()
        if r.object.keys.contains("expiration_date") {
            if let d = try r.date("expiration_date") { expiration = .set(d) } else { expiration = .clear }
        } else {
            expiration = .unchanged
        }
        idempotencyKey = try r.string("idempotency_key", maxLength: 200)
        guard text != nil || metadata != nil || expiration != .unchanged else {
            throw .invalid("nothing to update: send `text`, `metadata` or `expiration_date`", code: "empty_update")
        }
    }
}

/// Parses a memory id from a path or body.
public func parseMemoryId(_ s: String) throws(MemoryServiceError) -> UUID {
    guard let id = UUID(uuidString: s) else {
        throw .invalid("memory_id should be a valid UUID, got '\(s.prefix(60))'", code: "invalid_memory_id")
    }
    return id
}
