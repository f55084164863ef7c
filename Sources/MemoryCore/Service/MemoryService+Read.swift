import Foundation
import MemoryStorage

extension MemoryService {
    /// `GET /v1/memories/{id}/`.
    public func get(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("get", context) {
            let (_, state) = try await locate(id, context)
            guard let m = state.memory(id) else {
                throw MemoryServiceError.notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
            }
            return .object(MemoryJSON.item(m))
        }
    }

    /// `GET /v1/memories/{id}/history/`: oldest first. Deleted (invalidated) memories keep their history; erased
    /// ones have none (404).
    public func history(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("history", context) {
            let (key, state) = try await locate(id, context, includeHistoryOnly: true)
            let entries = state.history[id] ?? []
            let current = state.memory(id)
            return .array(entries.enumerated().map { MemoryJSON.history($1, index: $0, owner: key.owner, current: current) })
        }
    }

    /// `POST /v3/memories/`: the memories matching the filters, newest first (ties by id), one page, over every
    /// partition the filters reach (``partitions(for:_:)``). Answers `{"count","next","previous","results"}`;
    /// `next`/`previous` are relative URLs or null.
    public func list(_ request: ListRequest, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("list", context) {
            let filter = try MemoryFilter.parse(request.filters)
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
            func link(_ p: Int) -> JSONValue { .string("/v3/memories/?page=\(p)&page_size=\(request.pageSize)") }
            return .object([
                "count": .number(Double(matching.count)),
                "next": start + request.pageSize < matching.count ? link(request.page + 1) : .null,
                "previous": request.page > 1 ? link(request.page - 1) : .null,
                "results": .array(page.map { .object(MemoryJSON.item($0)) }),
            ])
        }
    }

    /// `POST /v3/memories/search/`: hybrid search over every partition the filters reach (``partitions(for:_:)``),
    /// hits merged by fused score. Answers `{"results":[memory + "score" + "score_breakdown"]}`, plus
    /// `"memory_block"` when `max_tokens` is set.
    public func search(_ request: SearchRequest, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("search", context) {
            var clauses: [JSONValue] = [request.filters]
            if let cats = request.categories, !cats.isEmpty {
                clauses.append(.object(["categories": .object(["in": .array(cats.map { .string($0) })])]))
            }
            if let metadata = request.metadata, !metadata.isEmpty {
                clauses.append(.object(["metadata": .object(metadata)]))
            }
            let filter = try MemoryFilter.parse(clauses.count == 1 ? clauses[0] : .object(["AND": .array(clauses)]))
            let mode = SearchMode(rawValue: request.mode) ?? .hybrid
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
            var results: [JSONValue] = []
            for hit in hits {
                var item = MemoryJSON.item(hit.memory)
                item["score"] = .number(hit.score)
                var breakdown: [String: JSONValue] = [
                    "semantic": .number(hit.breakdown.semantic), "bm25": .number(hit.breakdown.bm25),
                ]
                if let r = hit.breakdown.recency { breakdown["recency"] = .number(r) }
                item["score_breakdown"] = .object(breakdown)
                if let e = hit.explanation {
                    var x: [String: JSONValue] = [
                        "bm25_raw": .number(e.bm25Raw), "bm25_ideal": .number(e.bm25Ideal),
                        "matched_terms": .array(e.matchedTerms.map { .string($0) }),
                        "sources": .array(e.sources.map { .string($0) }),
                        "score_before_recency": .number(e.scoreBeforeRecency),
                        "recency_factor": .number(e.recencyFactor), "age_seconds": .number(e.ageSeconds),
                        "neighbour_score": .number(e.neighbourScore),
                    ]
                    if let newer = e.supersededBy { x["superseded_by"] = .string(newer.uuidString.lowercased()) }
                    if let c = e.cosine { x["cosine"] = .number(c) }
                    if let c = e.approximateCosine { x["approximate_cosine"] = .number(c) }
                    item["explanation"] = .object(x)
                }
                results.append(.object(item))
            }
            var answer: [String: JSONValue] = ["results": .array(results)]
            if let maxTokens = request.maxTokens {
                answer["memory_block"] = .string(MemoryBlockFormatter.format(hits, maxTokens: maxTokens))
            }
            return .object(answer)
        }
    }
}
