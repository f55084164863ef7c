import Foundation
import MemoryStorage

extension MemoryService {
    /// `PUT /v1/memories/{id}/`: new text (re-embedded, history recorded), metadata merged (a key set to null is
    /// removed), `expiration_date` set or cleared. Answers the updated memory.
    public func update(_ id: UUID, _ request: UpdateRequest, _ context: RequestContext) async throws -> WriteAnswer<StoredMemory> {
        try await guarded("update", context) {
            let (key, _) = try await locate(id, context)
            let vector = try await request.text.asyncMap { try await embedder.embed($0, purpose: .document) }
            let idempotent = IdempotentWrite(key: request.idempotencyKey ?? context.idempotencyKey,
                                             request: request.fingerprint(id: id))
            let encode = { (m: StoredMemory?) in m.map { ResponseEncoding.json($0) } ?? .null }
            let answer = try await write(key, space: space, idempotent: idempotent, at: context.now,
                                         encode: encode) { state -> WritePlan<StoredMemory?> in
                guard let current = state.memory(id) else { return .nothing(nil) }
                let updated = Self.applying(request, vector: vector, to: current, now: context.now)
                return .apply([.update(updated)], updated, eventId: UUID())
            }
            return try Self.found(answer, id)
        }
    }

    /// `DELETE /v1/memories/{id}/`: erases the memory — gone from reads now, its text, metadata and vector
    /// gone from storage after the next compaction and the grace period. Its history keeps the events (ADD,
    /// UPDATE, DELETE, as Mem0 shows them) without their texts.
    public func delete(_ id: UUID, _ context: RequestContext) async throws -> WriteAnswer<Deletion> {
        try await guarded("delete", context) {
            // A deleted memory keeps its history, so a retried delete finds the partition and its stored answer.
            let (key, _) = try await locate(id, context, includeHistoryOnly: true)
            let idempotent = IdempotentWrite(key: context.idempotencyKey, request: Self.deleteFingerprint(id))
            let encode = { (d: Deletion?) in d.map { ResponseEncoding.json($0) } ?? .null }
            let answer = try await write(key, space: nil, idempotent: idempotent, at: context.now,
                                         encode: encode) { state -> WritePlan<Deletion?> in
                guard state.memory(id) != nil else { return .nothing(nil) }
                return .apply([.delete(id: id, at: context.now)], .memory, eventId: UUID())
            }
            return try Self.found(answer, id)
        }
    }

    /// A write's answer whose applied value is nil when the memory was gone by the time of the write: 404.
    static func found<Value>(_ answer: WriteAnswer<Value?>, _ id: UUID) throws(MemoryServiceError) -> WriteAnswer<Value> {
        switch answer {
        case .replayed(let recorded): return .replayed(recorded)
        case .applied(let value?): return .applied(value)
        case .applied(nil): throw memoryNotFound(id)
        }
    }

    /// `DELETE /v1/memories/?user_id=…&agent_id=…`: erases every memory that carries all the given scope ids,
    /// in every partition that holds one (``eraseCarrying(_:_:)``; `"*"` = any id of that kind). Answers
    /// the exact count erased.
    public func deleteAll(_ request: DeleteAllRequest, _ context: RequestContext) async throws -> Deletion {
        try await guarded("deleteAll", context) {
            let scopes = request.scopes
            guard !scopes.isEmpty else {
                throw MemoryServiceError.invalid("name at least one of user_id, agent_id, app_id, run_id",
                                                 code: "missing_entity_id")
            }
            try BoundUserRule.check(scopes: scopes, context, verb: "deletes")
            return .memories(try await eraseCarrying(scopes, context))
        }
    }

    /// `DELETE /v2/entities/{type}/{id}/`: erases every memory carrying the id: a user's partition; an agent's,
    /// app's or run's memories in every partition (its own and users'). A partition left empty has its blobs
    /// deleted by an immediate compaction. Answers the count erased; 404 for an id never seen.
    public func deleteEntity(_ entity: EntityReference, _ context: RequestContext) async throws -> Deletion {
        try await guarded("deleteEntity", context) {
            var named = MemoryScopes()
            named[entity.kind] = entity.id
            try BoundUserRule.check(scopes: named, context, verb: "deletes")
            let owner = PartitionOwner(kind: entity.kind, id: entity.id)
            guard try await entityIsKnown(owner, context) else {
                throw MemoryServiceError.notFound("\(entity.kind.rawValue) '\(entity.id.prefix(64))' has no memories",
                                                  code: "entity_not_found")
            }
            var scopes = MemoryScopes()
            scopes[entity.kind] = entity.id
            return .entity(try await eraseCarrying(scopes, context))
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

    /// `PUT /v1/batch/`: at most 1000 changes. Every id is checked first: one unknown id fails the request with
    /// 404 and nothing is written.
    public func batchUpdate(_ request: BatchUpdateRequest, _ context: RequestContext) async throws -> BatchOutcome {
        try await guarded("batchUpdate", context) {
            let changes = request.changes
            let texts = changes.compactMap(\.change.text)
            var vectors = texts.isEmpty ? [] : try await embedder.embed(texts, purpose: .document)[...]
            var planned: [(UUID, UpdateRequest, [Float]?)] = []
            for (id, change) in changes {
                planned.append((id, change, change.text == nil ? nil : vectors.popFirst()))
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
            return BatchOutcome(.updated, count: changes.count)
        }
    }

    /// `DELETE /v1/batch/`: at most 1000 ids, all checked first.
    public func batchDelete(_ request: BatchDeleteRequest, _ context: RequestContext) async throws -> BatchOutcome {
        try await guarded("batchDelete", context) {
            for (key, ids) in try await groupByPartition(request.ids, context) {
                _ = try await store.write(key, space: nil) { state -> WriteDecision<Void> in
                    let ops = ids.filter { state.memory($0) != nil }.map { LogOperation.purge(id: $0, at: context.now) }
                    return ops.isEmpty ? .skip(()) : .append(LogBatch(operations: ops, writtenAt: context.now), ())
                }
            }
            return BatchOutcome(.deleted, count: request.ids.count)
        }
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
