import Foundation
import MemoryStorage
import ModelClients

extension MemoryService {
    /// How many existing memories the reconciliation step is shown per extracted fact.
    static let similarPerFact = 5

    /// `infer: true` with a chat model: extract facts, look up similar memories of the partition, let the model
    /// decide ADD / UPDATE / DELETE / NONE per fact, then apply the plan in one append. A model failure writes
    /// nothing. Answers like ``add(_:_:)`` with one event per change (NONE omitted) plus the token usage.
    func addInferred(_ request: AddRequest, key: PartitionKey, chat: any ChatModel, idempotent: IdempotentWrite?,
                     _ context: RequestContext) async throws -> WriteAnswer<AddOutcome> {
        let index = await indexCache.index(for: try await store.read(key))
        let embedder = self.embedder
        let now = context.now
        let plan = try await InferPipeline(chat: chat, logger: logger).plan(InferInput(
            messages: request.messages,
            messageTime: request.timestamp ?? context.now, customInstructions: request.customInstructions,
            includes: request.includes, excludes: request.excludes
        )) { facts in
            let vectors = try await embedder.embed(facts, purpose: .query)
            var seen = Set<UUID>()
            var similar: [ExistingMemory] = []
            for (fact, vector) in zip(facts, vectors) {
                let hits = index.search(SearchQuery(
                    text: fact, vector: vector, topK: Self.similarPerFact, threshold: nil, filter: .all,
                    mode: .hybrid, recencyHalfLife: nil, now: now, includeExpired: false, explain: false))
                for hit in hits where seen.insert(hit.memory.id).inserted {
                    similar.append(ExistingMemory(id: hit.memory.id, text: hit.memory.text))
                }
            }
            return similar
        }
        var newTexts: [String] = []
        for action in plan.actions {
            switch action {
            case .add(let text), .update(_, let text): newTexts.append(text)
            case .delete: break
            }
        }
        let vectors = newTexts.isEmpty ? [] : try await embedder.embed(newTexts, purpose: .document)
        let vectorOf = Dictionary(zip(newTexts, vectors), uniquingKeysWith: { first, _ in first })
        let created = request.timestamp ?? context.now
        let owner = key.owner
        let answer = try await write(key, space: space, idempotent: idempotent, at: now,
                                     encode: ResponseEncoding.json) { state -> WritePlan<AddOutcome> in
            var ops: [LogOperation] = []
            var events: [MemoryEvent] = []
            for action in plan.actions {
                switch action {
                case .add(let text):
                    guard let vector = vectorOf[text] else { continue }
                    let m = StoredMemory(
                        id: owner.newMemoryId(), text: text, hash: Self.md5Hex(text), scopes: request.scopes,
                        metadata: request.metadata, createdAt: created, updatedAt: created,
                        expirationDate: request.expirationDate, embedding: vector)
                    ops.append(.add(m))
                    events.append(MemoryEvent(id: m.id, text: text, kind: .add))
                case .update(let id, let text):
                    // The memory may have been deleted since the plan was made: skip, never resurrect.
                    guard let current = state.memory(id), let vector = vectorOf[text] else { continue }
                    let updated = Self.applying(UpdateRequest(text: text), vector: vector, to: current, now: now)
                    ops.append(.update(updated))
                    events.append(MemoryEvent(id: id, text: text, kind: .update))
                case .delete(let id):
                    guard let current = state.memory(id) else { continue }
                    ops.append(.delete(id: id, at: now))
                    events.append(MemoryEvent(id: id, text: current.text, kind: .delete))
                }
            }
            let outcome = AddOutcome(eventId: UUID(), events: events, usage: plan.usage)
            return .apply(ops, outcome, eventId: outcome.eventId)
        }
        logger.info("add (inferred)", metadata: [
            "tenant": .string(context.tenant), "request_id": .string(context.requestId),
            "partition": .string(key.description), "facts": .stringConvertible(plan.facts.count),
            "changes": .stringConvertible(answer.applied?.events.count ?? 0),
            "total_tokens": .stringConvertible(plan.usage.totalTokens),
        ])
        return answer
    }
}
