import Foundation
import Logging
import MemoryStorage
import ModelClients

/// Tunables of the memory service.
public struct MemoryServiceOptions: Sendable {
    /// Without a chat model, `infer: true` skips a user message whose embedding is at least this similar to an
    /// existing memory (near-duplicate suppression).
    public var nearDuplicateSimilarity: Float = 0.95
    /// Partitions whose search index is kept in memory.
    public var searchIndexCacheCapacity: Int = 256
    /// Default recency half-life for search, in days; nil = no recency weighting unless a request asks.
    public var defaultRecencyHalfLifeDays: Double? = nil

    public init() {}
}

/// The Mem0-compatible memory service: add, search, list, get, update, delete, history, entities, batch and
/// export, over durable partitions. Knows nothing of HTTP: requests come in parsed, answers go out as the JSON
/// shapes of the Mem0 platform API. Every call runs for one tenant (``RequestContext``).
///
/// Errors thrown are ``MemoryServiceError``.
public final class MemoryService: Sendable {
    public let store: PartitionStore
    public let embedder: any Embedder
    public let chat: (any ChatModel)?
    let options: MemoryServiceOptions
    let logger: Logger

    public init(store: PartitionStore, embedder: any Embedder, chat: (any ChatModel)? = nil,
                options: MemoryServiceOptions = MemoryServiceOptions(), logger: Logger) {
        self.store = store
        self.embedder = embedder
        self.chat = chat
        self.options = options
        self.logger = logger
    }

    /// `POST /v3/memories/add/`: `{"status":"SUCCEEDED","event_id":…,"results":[{"id","memory","event",…}]}`.
    public func add(_ request: AddRequest, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "add is being built")
    }

    /// `POST /v3/memories/search/`: `{"results":[memory + score + score_breakdown]}` (+ `memory_block`).
    public func search(_ request: SearchRequest, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "search is being built")
    }

    /// `POST /v3/memories/`: `{"count","next","previous","results"}`, newest first, stable.
    public func list(_ request: ListRequest, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "list is being built")
    }

    /// `GET /v1/memories/{id}/`.
    public func get(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "get is being built")
    }

    /// `PUT /v1/memories/{id}/`: the updated memory.
    public func update(_ id: UUID, _ request: UpdateRequest, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "update is being built")
    }

    /// `DELETE /v1/memories/{id}/`: `{"message":"Memory deleted successfully!"}`.
    public func delete(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "delete is being built")
    }

    /// `GET /v1/memories/{id}/history/`: an array of history items, oldest first.
    public func history(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "history is being built")
    }

    /// `DELETE /v1/memories/?user_id=…`: erases every memory of the named scope(s).
    public func deleteAll(scopes: MemoryScopes, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "deleteAll is being built")
    }

    /// `GET /v1/entities/`: users, agents, apps and runs that own memories.
    public func entities(_ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "entities is being built")
    }

    /// `DELETE /v2/entities/{type}/{id}/`: erases the entity's partition.
    public func deleteEntity(type: String, id: String, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "deleteEntity is being built")
    }

    /// `PUT /v1/batch/` with `{"memories":[{"memory_id","text"?,"metadata"?}]}` (at most 1000).
    public func batchUpdate(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "batchUpdate is being built")
    }

    /// `DELETE /v1/batch/` with `{"memories":[{"memory_id"}]}` (at most 1000).
    public func batchDelete(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "batchDelete is being built")
    }

    /// `POST /v1/exports/`: computes the export now; `{"message","id"}`.
    public func createExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "createExport is being built")
    }

    /// `POST /v1/exports/get/`: the export's data.
    public func getExport(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        throw MemoryServiceError(.unavailable, code: "not_built", detail: "getExport is being built")
    }

    /// Compacts every partition of `tenant` (every tenant when nil) whose log is worth folding; the timer
    /// function and the admin route call this. Never throws: failures are logged and counted per partition.
    public func compactAll(tenant: String?, force: Bool = false) async -> CompactionSummary {
        CompactionSummary(partitions: 0, compacted: 0, failed: 0, messages: ["compaction is being built"])
    }
}

/// What a compaction sweep did.
public struct CompactionSummary: Sendable, Equatable {
    public var partitions: Int
    public var compacted: Int
    public var failed: Int
    /// One line per notable event, for the Functions host's `Logs` array.
    public var messages: [String]

    public init(partitions: Int, compacted: Int, failed: Int, messages: [String]) {
        self.partitions = partitions
        self.compacted = compacted
        self.failed = failed
        self.messages = messages
    }

    public var json: JSONValue {
        .object(["partitions": .number(Double(partitions)), "compacted": .number(Double(compacted)),
                 "failed": .number(Double(failed)), "messages": .array(messages.map { .string($0) })])
    }
}
