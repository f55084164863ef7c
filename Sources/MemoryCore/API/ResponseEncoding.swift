import Foundation
import JSONModel
import MemoryStorage

/// The one place the service's answers become JSON: the shapes of the Mem0 platform API (`docs/openapi.yaml`,
/// exercised by the `mem0ai` SDK suite in `Tests/sdk`). Field names, `null` versus absent, and numbers (JSON
/// doubles) are the wire contract: change them here or nowhere.
public enum ResponseEncoding {
    // MARK: Memories

    /// A memory item (`GET /v1/memories/{id}/`, list, export and search results).
    public static func json(_ m: StoredMemory) -> JSONValue { .object(item(m)) }

    static func item(_ m: StoredMemory) -> [String: JSONValue] {
        [
            "id": id(m.id),
            "memory": .string(m.text),
            "hash": .string(m.hash),
            "metadata": m.metadata,
            "categories": .array(m.categories.map { .string($0) }),
            "user_id": optional(m.scopes.userId),
            "agent_id": optional(m.scopes.agentId),
            "app_id": optional(m.scopes.appId),
            "run_id": optional(m.scopes.runId),
            // `POST /v3/memories/` names the run `session_id`; send both so either reader finds it.
            "session_id": optional(m.scopes.runId),
            "created_at": .string(ISODates.format(m.createdAt)),
            "updated_at": .string(ISODates.format(m.updatedAt)),
            "expiration_date": m.expirationDate.map { .string(ISODates.formatDay($0)) } ?? .null,
        ]
    }

    /// `{"count","next","previous","results"}`; `next`/`previous` are relative URLs of the list route, or null.
    public static func json(_ page: MemoryPage) -> JSONValue {
        func link(_ p: Int) -> JSONValue { .string("/v3/memories/?page=\(p)&page_size=\(page.pageSize)") }
        return .object([
            "count": number(page.count),
            "next": page.hasNext ? link(page.page + 1) : .null,
            "previous": page.hasPrevious ? link(page.page - 1) : .null,
            "results": .array(page.items.map(json)),
        ])
    }

    /// `{"results":[item + "score" + "score_breakdown" (+ "explanation")]}`, plus `"memory_block"` when asked.
    public static func json(_ results: SearchResults) -> JSONValue {
        var answer: [String: JSONValue] = ["results": .array(results.hits.map(json))]
        if let block = results.memoryBlock { answer["memory_block"] = .string(block) }
        return .object(answer)
    }

    static func json(_ hit: SearchHit) -> JSONValue {
        var o = item(hit.memory)
        o["score"] = .number(hit.score)
        var breakdown: [String: JSONValue] = [
            "semantic": .number(hit.breakdown.semantic), "bm25": .number(hit.breakdown.bm25),
        ]
        if let r = hit.breakdown.recency { breakdown["recency"] = .number(r) }
        o["score_breakdown"] = .object(breakdown)
        if let e = hit.explanation { o["explanation"] = json(e) }
        return .object(o)
    }

    static func json(_ e: SearchExplanation) -> JSONValue {
        var x: [String: JSONValue] = [
            "bm25_raw": .number(e.bm25Raw), "bm25_ideal": .number(e.bm25Ideal),
            "matched_terms": .array(e.matchedTerms.map { .string($0) }),
            "sources": .array(e.sources.map { .string($0) }),
            "score_before_recency": .number(e.scoreBeforeRecency),
            "recency_factor": .number(e.recencyFactor), "age_seconds": .number(e.ageSeconds),
            "neighbour_score": .number(e.neighbourScore),
        ]
        if let newer = e.supersededBy { x["superseded_by"] = id(newer) }
        if let c = e.cosine { x["cosine"] = .number(c) }
        if let c = e.approximateCosine { x["approximate_cosine"] = .number(c) }
        return .object(x)
    }

    /// The history list, oldest first; each entry's id is stable across calls (``stableId(_:_:)``).
    public static func json(_ history: MemoryTimeline) -> JSONValue {
        .array(history.entries.enumerated().map { json($1, index: $0, owner: history.owner, current: history.current) })
    }

    static func json(_ h: HistoryEntry, index: Int, owner: PartitionOwner, current: StoredMemory?) -> JSONValue {
        let scopes = current?.scopes ?? MemoryScopes()
        var userId = scopes.userId
        if userId == nil, owner.kind == .user { userId = owner.id }
        return .object([
            "id": id(stableId(h.memoryId, index)),
            "memory_id": id(h.memoryId),
            "event": .string(h.event.rawValue),
            "old_memory": optional(h.oldText),
            "new_memory": optional(h.newText),
            "input": .array([]),
            "user_id": optional(userId),
            "agent_id": optional(scopes.agentId),
            "app_id": optional(scopes.appId),
            "run_id": optional(scopes.runId),
            "session_id": optional(scopes.runId),
            "categories": .array((current?.categories ?? []).map { .string($0) }),
            "metadata": current?.metadata ?? .null,
            "created_at": .string(ISODates.format(h.at)),
            "updated_at": .string(ISODates.format(h.at)),
            "event_id": id(h.eventId),
        ])
    }

    // MARK: Writes

    /// `{"status":"SUCCEEDED","event_id","results":[{"id","memory","event","data":{"memory"}}]}`, plus `message`
    /// for a verbatim add and `usage` when the chat model ran.
    public static func json(_ outcome: AddOutcome) -> JSONValue {
        var o: [String: JSONValue] = [
            "status": .string("SUCCEEDED"),
            "event_id": id(outcome.eventId),
            "results": .array(outcome.events.map { e in
                .object(["id": id(e.id), "memory": .string(e.text), "event": .string(e.kind.rawValue),
                         "data": .object(["memory": .string(e.text)])])
            }),
        ]
        if outcome.storedVerbatim { o["message"] = .string("Memories stored verbatim (infer=false).") }
        if let u = outcome.usage {
            o["usage"] = .object([
                "prompt_tokens": number(u.promptTokens), "completion_tokens": number(u.completionTokens),
                "total_tokens": number(u.totalTokens),
            ])
        }
        return .object(o)
    }

    /// A write's own answer, or the one recorded by the earlier call with the same `Idempotency-Key`.
    public static func json<Value>(_ answer: WriteAnswer<Value>, _ encode: (Value) -> JSONValue) -> JSONValue {
        switch answer {
        case .applied(let value): return encode(value)
        case .replayed(.answer(let recorded)): return recorded
        case .replayed(.erased):
            return message("This request was already applied (same Idempotency-Key); what it wrote has since been deleted.")
        }
    }

    public static func json(_ answer: WriteAnswer<AddOutcome>) -> JSONValue { json(answer, json as (AddOutcome) -> JSONValue) }
    public static func json(_ answer: WriteAnswer<StoredMemory>) -> JSONValue { json(answer, json as (StoredMemory) -> JSONValue) }
    public static func json(_ answer: WriteAnswer<Deletion>) -> JSONValue { json(answer, json as (Deletion) -> JSONValue) }

    /// `{"message"}`, with `deleted` (the exact count) for the bulk deletes.
    public static func json(_ deletion: Deletion) -> JSONValue {
        switch deletion {
        case .memory: return message("Memory deleted successfully!")
        case .memories(let n): return message("Memories deleted successfully!", ["deleted": number(n)])
        case .entity(let n): return message("Entity deleted successfully!", ["deleted": number(n)])
        }
    }

    public static func json(_ batch: BatchOutcome) -> JSONValue {
        message("Successfully \(batch.operation.rawValue) \(batch.count) memories")
    }

    // MARK: Entities, exports, compaction

    /// `{"count","next","previous","results":[…],"total_users","total_agents","total_apps","total_runs"}`; one
    /// page holds every entity, so the links are null.
    public static func json(_ list: EntityList) -> JSONValue {
        .object([
            "count": number(list.entities.count), "next": .null, "previous": .null,
            "results": .array(list.entities.map { e in
                .object([
                    "id": .string(e.id), "name": .string(e.id), "type": .string(e.kind.rawValue),
                    "owner": .string(list.tenant), "created_at": .string(ISODates.format(e.createdAt)),
                    "updated_at": .string(ISODates.format(e.updatedAt)),
                    "total_memories": number(e.memoryCount), "metadata": .null,
                ])
            }),
            "total_users": number(list.count(of: .user)), "total_agents": number(list.count(of: .agent)),
            "total_apps": number(list.count(of: .app)), "total_runs": number(list.count(of: .run)),
        ])
    }

    public static func json(_ receipt: ExportReceipt) -> JSONValue {
        .object([
            "message": .string("Memory export request received. The export will be ready in a few seconds."),
            "id": id(receipt.id),
        ])
    }

    public static func json(_ contents: ExportContents) -> JSONValue {
        switch contents {
        case .stored(let document): return document
        case .computed(let memories): return .object(["count": number(memories.count), "memories": .array(memories.map(json))])
        }
    }

    /// The document a stored export keeps and `POST /v1/exports/get/` returns: the request's schema and filters as
    /// sent, when it was made, and the memories.
    static func exportDocument(id exportId: UUID, request: ExportRequest, createdAt: Date, memories: [StoredMemory]) -> JSONValue {
        .object([
            "id": id(exportId), "schema": request.schema, "filters": request.filters,
            "created_at": .string(ISODates.format(createdAt)), "count": number(memories.count),
            "memories": .array(memories.map(json)),
        ])
    }

    /// `{"partitions","compacted","failed","messages"}`.
    public static func json(_ summary: CompactionSummary) -> JSONValue {
        .object(["partitions": number(summary.partitions), "compacted": number(summary.compacted),
                 "failed": number(summary.failed), "messages": .array(summary.messages.map { .string($0) })])
    }

    // MARK: Pieces

    static func id(_ uuid: UUID) -> JSONValue { .string(uuid.uuidString.lowercased()) }
    static func number(_ n: Int) -> JSONValue { .number(Double(n)) }
    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    static func message(_ text: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var o = extra
        o["message"] = .string(text)
        return .object(o)
    }

    /// A deterministic UUID for (memory id, index): the history endpoint returns the same ids every time.
    static func stableId(_ id: UUID, _ index: Int) -> UUID {
        var bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        let i = UInt32(truncatingIfNeeded: index)
        bytes[12] ^= UInt8(i >> 24); bytes[13] ^= UInt8((i >> 16) & 0xFF)
        bytes[14] ^= UInt8((i >> 8) & 0xFF); bytes[15] ^= UInt8(i & 0xFF) ^ 0x5A
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}

extension JSONValue {
    /// Serialises with sorted keys (stable bytes for idempotent answers and tests).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    /// Parses JSON bytes; throws a 400 `invalid_json` naming the problem.
    public static func decode(_ data: Data) throws(MemoryServiceError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalid("the body is not valid JSON", code: "invalid_json")
        }
    }
}
