import Foundation
import MemoryStorage

extension MemoryService {
    /// `PUT /v1/memories/{id}/`: new text (re-embedded, history recorded), metadata merged (a key set to null is
    /// removed), `expiration_date` set or cleared. Answers the updated memory.
    public func update(_ id: UUID, _ request: UpdateRequest, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("update", context) {
            let (key, _) = try await locate(id, context)
            let vector = try await request.text.asyncMap { try await embedder.embed($0, purpose: .document) }
            let idempotent = IdempotentWrite(key: request.idempotencyKey ?? context.idempotencyKey,
                                             request: request.fingerprint(id: id))
            let (answer, _) = try await store.write(key, space: space) { state -> WriteDecision<JSONValue?> in
                if let answer = try idempotent?.replay(in: state) { return .skip(answer) }
                guard let current = state.memory(id) else { return .skip(nil) }
                let updated = Self.applying(request, vector: vector, to: current, now: context.now)
                let answer = JSONValue.object(MemoryJSON.item(updated))
                return .append(LogBatch(operations: [.update(updated)], idempotencyKey: idempotent?.key,
                                        idempotentResponse: idempotent?.record(answer),
                                        writtenAt: context.now), answer)
            }
            guard let answer else {
                throw MemoryServiceError.notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
            }
            return answer
        }
    }

    /// `DELETE /v1/memories/{id}/`: erases the memory — gone from reads now, its text, metadata and vector
    /// gone from storage after the next compaction and the grace period. Its history keeps the events (ADD,
    /// UPDATE, DELETE, as Mem0 shows them) without their texts.
    public func delete(_ id: UUID, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("delete", context) {
            // A deleted memory keeps its history, so a retried delete finds the partition and its stored answer.
            let (key, _) = try await locate(id, context, includeHistoryOnly: true)
            let idempotent = IdempotentWrite(key: context.idempotencyKey,
                                             request: .object(["op": .string("delete"), "id": .string(id.uuidString.lowercased())]))
            let (answer, _) = try await store.write(key, space: nil) { state -> WriteDecision<JSONValue?> in
                if let answer = try idempotent?.replay(in: state) { return .skip(answer) }
                guard state.memory(id) != nil else { return .skip(nil) }
                let answer = MemoryJSON.message("Memory deleted successfully!")
                return .append(LogBatch(operations: [.delete(id: id, at: context.now)], idempotencyKey: idempotent?.key,
                                        idempotentResponse: idempotent?.record(answer),
                                        writtenAt: context.now), answer)
            }
            guard let answer else {
                throw MemoryServiceError.notFound("memory \(id.uuidString.lowercased()) not found", code: "memory_not_found")
            }
            return answer
        }
    }

    /// `DELETE /v1/memories/?user_id=…&agent_id=…`: erases every memory that carries all the given scope ids,
    /// in every partition that holds one (``eraseCarrying(_:_:)``; `"*"` = any id of that kind). Answers
    /// `{"message","deleted"}` with the exact count.
    public func deleteAll(scopes: MemoryScopes, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("deleteAll", context) {
            guard !scopes.isEmpty else {
                throw MemoryServiceError.invalid("name at least one of user_id, agent_id, app_id, run_id",
                                                 code: "missing_entity_id")
            }
            try BoundUserRule.check(scopes: scopes, context, verb: "deletes")
            let deleted = try await eraseCarrying(scopes, context)
            return MemoryJSON.message("Memories deleted successfully!", ["deleted": .number(Double(deleted))])
        }
    }

    /// `DELETE /v2/entities/{type}/{id}/`: erases every memory carrying the id: a user's partition; an agent's,
    /// app's or run's memories in every partition (its own and users'). A partition left empty has its blobs
    /// deleted by an immediate compaction. Answers `{"message","deleted"}`; 404 for an id never seen.
    public func deleteEntity(type: String, id: String, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("deleteEntity", context) {
            let kindName = type.hasSuffix("s") ? String(type.dropLast()) : type
            guard let kind = OwnerKind(rawValue: kindName) else {
                throw MemoryServiceError.invalid("entity type must be user, agent, app or run, got '\(type.prefix(20))'",
                                                 code: "invalid_entity_type")
            }
            let entity = PartitionOwner(kind: kind, id: id)
            var named = MemoryScopes()
            named[kind] = id
            try BoundUserRule.check(scopes: named, context, verb: "deletes")
            guard try await entityIsKnown(entity, context) else {
                throw MemoryServiceError.notFound("\(kind.rawValue) '\(id.prefix(64))' has no memories", code: "entity_not_found")
            }
            var scopes = MemoryScopes()
            scopes[kind] = id
            let deleted = try await eraseCarrying(scopes, context)
            return MemoryJSON.message("Entity deleted successfully!", ["deleted": .number(Double(deleted))])
        }
    }

    /// Purges the memories of `key` that `match`, ``MemoryServiceOptions/purgesPerAppend`` per append, then compacts when the
    /// partition is empty so its bytes are gone. Returns how many were erased. Larger erasures take several
    /// appends: if one fails, those before it stand, and repeating the request finishes the job.
    func purgeAll(_ key: PartitionKey, _ context: RequestContext, where match: @escaping (StoredMemory) -> Bool)
        async throws -> Int
    {
        let perAppend = max(1, options.purgesPerAppend)
        var count = 0
        var state: PartitionState
        while true {
            let (purged, after) = try await store.write(key, space: nil) { state -> WriteDecision<Int> in
                var ids: [UUID] = []
                for m in state.memories where match(m) {
                    ids.append(m.id)
                    if ids.count == perAppend { break }
                }
                guard !ids.isEmpty else { return .skip(0) }
                return .append(LogBatch(operations: ids.map { .purge(id: $0, at: context.now) }, writtenAt: context.now),
                               ids.count)
            }
            count += purged
            state = after
            if purged < perAppend { break }
        }
        if state.memories.isEmpty {
            do {
                _ = try await store.compact(key)
            } catch {
                logger.warning("erasure compaction failed; the next timer run retries it", metadata: [
                    "tenant": .string(context.tenant), "partition": .string(key.description),
                    "error": .string("\(error)"),
                ])
            }
        }
        return count
    }

    /// `PUT /v1/batch/`: `{"memories":[{"memory_id","text"?,"metadata"?}]}`, at most 1000. Every id is checked
    /// first: one unknown id fails the request with 404 and nothing is written.
    public func batchUpdate(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("batchUpdate", context) {
            let items = try Self.batchItems(body, verb: "updated")
            var changes: [(UUID, UpdateRequest)] = []
            for (i, item) in items.enumerated() {
                let request = try UpdateRequest(json: item.1)
                guard request.text != nil || request.metadata != nil || request.expiration != .unchanged else {
                    throw MemoryServiceError.invalid("memories[\(i)] has nothing to update", code: "empty_update")
                }
                changes.append((item.0, request))
            }
            let texts = changes.compactMap(\.1.text)
            var vectors = texts.isEmpty ? [] : try await embedder.embed(texts, purpose: .document)[...]
            var planned: [(UUID, UpdateRequest, [Float]?)] = []
            for (id, request) in changes {
                planned.append((id, request, request.text == nil ? nil : vectors.popFirst()))
            }
            let grouped = try await groupByPartition(planned.map(\.0), context)
            for (key, ids) in grouped {
                let wanted = Set(ids)
                _ = try await store.write(key, space: space) { state -> WriteDecision<Void> in
                    var ops: [LogOperation] = []
                    for (id, request, vector) in planned where wanted.contains(id) {
                        guard let current = state.memory(id) else { continue }
                        ops.append(.update(Self.applying(request, vector: vector, to: current, now: context.now)))
                    }
                    return ops.isEmpty ? .skip(()) : .append(LogBatch(operations: ops, writtenAt: context.now), ())
                }
            }
            return MemoryJSON.message("Successfully updated \(changes.count) memories")
        }
    }

    /// `DELETE /v1/batch/`: `{"memories":[{"memory_id"}]}`, at most 1000; all ids checked first.
    public func batchDelete(_ body: JSONValue, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("batchDelete", context) {
            let ids = try Self.batchItems(body, verb: "deleted").map(\.0)
            for (key, ids) in try await groupByPartition(ids, context) {
                _ = try await store.write(key, space: nil) { state -> WriteDecision<Void> in
                    let ops = ids.filter { state.memory($0) != nil }.map { LogOperation.purge(id: $0, at: context.now) }
                    return ops.isEmpty ? .skip(()) : .append(LogBatch(operations: ops, writtenAt: context.now), ())
                }
            }
            return MemoryJSON.message("Successfully deleted \(ids.count) memories")
        }
    }

    /// Parses `{"memories":[{"memory_id": …, …}]}` (1 to 1000 items, no repeated id).
    static func batchItems(_ body: JSONValue, verb: String) throws -> [(UUID, JSONValue)] {
        guard case .array(let items)? = body["memories"] else {
            throw MemoryServiceError.invalid("`memories` is required: an array of {memory_id, …}", code: "missing_memories")
        }
        guard (1...1000).contains(items.count) else {
            throw MemoryServiceError.invalid("between 1 and 1000 memories can be \(verb) in a single request, got \(items.count)",
                                             code: "invalid_batch_size")
        }
        var seen = Set<UUID>()
        var out: [(UUID, JSONValue)] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s)? = item["memory_id"] else {
                throw MemoryServiceError.invalid("memories[\(i)].memory_id must be a string", code: "invalid_memory_id")
            }
            let id = try parseMemoryId(s)
            guard seen.insert(id).inserted else {
                throw MemoryServiceError.invalid("memories[\(i)] repeats memory_id \(s)", code: "duplicate_memory_id")
            }
            out.append((id, item))
        }
        return out
    }

    /// Groups ids by their partition; throws 404 naming the first unknown id.
    func groupByPartition(_ ids: [UUID], _ context: RequestContext) async throws -> [(PartitionKey, [UUID])] {
        var groups: [PartitionKey: [UUID]] = [:]
        var order: [PartitionKey] = []
        for id in ids {
            let (key, _) = try await locate(id, context)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(id)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// The memory after an update request.
    static func applying(_ request: UpdateRequest, vector: [Float]?, to current: StoredMemory, now: Date) -> StoredMemory {
        var m = current
        if let text = request.text, let vector {
            m.text = text
            m.hash = md5Hex(text)
            m.embedding = vector
        }
        if let changes = request.metadata {
            var merged = current.metadata.objectValue ?? [:]
            for (k, v) in changes {
                if v.isNull { merged[k] = nil } else { merged[k] = v }
            }
            m.metadata = merged.isEmpty ? .null : .object(merged)
        }
        switch request.expiration {
        case .unchanged: break
        case .set(let d): m.expirationDate = d
        case .clear: m.expirationDate = nil
        }
        m.updatedAt = now
        return m
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
