import Foundation
import MemoryStorage

extension MemoryService {
    /// `GET /v1/memories/{id}/`.
    public func get(_ id: UUID, _ context: RequestContext) async throws -> StoredMemory {
        try await guarded("get", context) {
            try memory(id, in: try await locate(id, context).state)
        }
    }

    /// `GET /v1/memories/{id}/history/`: oldest first. Deleted (invalidated) memories keep their history; erased
    /// ones have none (404).
    public func history(_ id: UUID, _ context: RequestContext) async throws -> MemoryTimeline {
        try await guarded("history", context) {
            let (key, state) = try await locate(id, context, includeHistoryOnly: true)
            return MemoryTimeline(entries: state.history[id] ?? [], owner: key.owner, current: state.memory(id))
        }
    }

    /// `POST /v3/memories/`: the memories matching the filters, newest first (ties by id), one page, over every
    /// partition the filters reach (``partitions(for:_:)``).
    public func list(_ request: ListRequest, _ context: RequestContext) async throws -> MemoryPage {
        try await guarded("list", context) {
            let filter = request.filter
            let keys = try await partitions(for: filter, context)
            let keywords = request.keywords?.lowercased().split(separator: " ").map(String.init) ?? []
            let now = context.now
            let keep: @Sendable (StoredMemory) -> Bool = { m in
                guard filter.matches(m) else { return false }
                if !request.showExpired, let e = m.expirationDate, e <= now { return false }
                if let s = request.startDate, m.createdAt < s { return false }
                if let e = request.endDate, m.createdAt >= e.addingTimeInterval(86_400) { return false }
                if let cats = request.categories, !cats.isEmpty, Set(cats).isDisjoint(with: m.categories) { return false }
                if !keywords.isEmpty {
                    let text = m.text.lowercased()
                    if !keywords.allSatisfy({ text.contains($0) }) { return false }
                }
                return true
            }
            let perPartition = try await mapPartitions(keys) { state in state.memories.filter(keep) }
            let matching = (perPartition.count == 1 ? perPartition[0] : Array(perPartition.joined())).sorted { a, b in
                a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id.uuidString < b.id.uuidString
            }
            let start = (request.page - 1) * request.pageSize
            let page = start < matching.count ? Array(matching[start..<min(matching.count, start + request.pageSize)]) : []
            return MemoryPage(items: page, count: matching.count, page: request.page, pageSize: request.pageSize)
        }
    }

    /// `POST /v3/memories/search/`: hybrid search over every partition the filters reach (``partitions(for:_:)``),
    /// hits merged by fused score, plus the memory block when `max_tokens` is set.
    public func search(_ request: SearchRequest, _ context: RequestContext) async throws -> SearchResults {
        try await guarded("search", context) {
            let filter = request.filter
            let mode = request.mode
            let keys = try await partitions(for: filter, context)
            let vector: [Float]?
            var loaded: PartitionState? = nil
            if keys.count == 1 {
                // One partition: load it while the query is embedded.
                async let stateLoad = store.read(keys[0])
                vector = mode == .keyword ? nil : try await embedder.embed(request.query, purpose: .query)
                loaded = try await stateLoad
            } else {
                vector = mode == .keyword ? nil : try await embedder.embed(request.query, purpose: .query)
            }
            let halfLifeDays = request.recencyHalfLifeDays ?? options.defaultRecencyHalfLifeDays
            let query = SearchQuery(
                text: request.query, vector: vector, topK: request.topK, threshold: request.threshold,
                filter: filter, mode: mode, recencyHalfLife: halfLifeDays.map { $0 * 86_400 },
                now: request.referenceDate ?? context.now, includeExpired: request.showExpired,
                explain: request.explain, ranking: options.ranking)
            let hits: [SearchHit]
            if let loaded {
                hits = await indexCache.index(for: loaded).search(query)
            } else {
                hits = try await searchPartitions(keys, query)
            }
            return SearchResults(hits: hits,
                                 memoryBlock: request.maxTokens.map { MemoryBlockFormatter.format(hits, maxTokens: $0) })
        }
    }
}
