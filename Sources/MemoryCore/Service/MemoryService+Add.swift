import Crypto
import Foundation
import MemoryStorage
import ModelClients

extension MemoryService {
    /// `POST /v3/memories/add/`. Synchronous: the memories are durable when this returns.
    ///
    /// - `infer: false`: every non-system message becomes a memory, verbatim.
    /// - `infer: true` without a chat model: the user's messages become memories, skipping exact duplicates
    ///   (same text hash) and near duplicates (cosine ≥ ``MemoryServiceOptions/nearDuplicateSimilarity``) of
    ///   existing memories and of each other.
    /// - `infer: true` with a chat model: the infer pipeline extracts facts and reconciles them.
    ///
    /// Answers the events (``AddOutcome``). With an idempotency key, a retry gets the first answer and writes
    /// nothing (``IdempotentWrite``).
    public func add(_ request: AddRequest, _ context: RequestContext) async throws -> WriteAnswer<AddOutcome> {
        try await guarded("add", context) {
            guard let owner = request.scopes.owner else {
                throw MemoryServiceError.invalid("name at least one of user_id, agent_id, app_id, run_id",
                                                 code: "missing_entity_id")
            }
            try BoundUserRule.check(scopes: request.scopes, context, verb: "adds")
            let key = PartitionKey(tenant: context.tenant, owner: owner)
            let idempotent = IdempotentWrite(key: request.idempotencyKey ?? context.idempotencyKey,
                                             request: request.fingerprint)
            if let recorded = try await recordedAnswer(idempotent, in: key) { return .replayed(recorded) }
            if request.infer, let chat {
                return try await addInferred(request, key: key, chat: chat, idempotent: idempotent, context)
            }
            let texts = Self.candidateTexts(request)
            let vectors = texts.isEmpty ? [] : try await embedder.embed(texts, purpose: .document)
            let created = request.timestamp ?? context.now
            let answer = try await write(key, space: space, idempotent: idempotent, at: context.now,
                                         encode: ResponseEncoding.json) { state -> WritePlan<AddOutcome> in
                var accepted: [StoredMemory] = []
                for (text, vector) in zip(texts, vectors) {
                    let hash = Self.md5Hex(text)
                    if request.infer,
                       self.isDuplicate(hash: hash, vector: vector, in: state.memories + accepted) { continue }
                    accepted.append(StoredMemory(
                        id: owner.newMemoryId(), text: text, hash: hash, scopes: request.scopes,
                        metadata: request.metadata, categories: [], createdAt: created, updatedAt: created,
                        expirationDate: request.expirationDate, embedding: vector))
                }
                let outcome = AddOutcome(eventId: UUID(), events: accepted.map { MemoryEvent(id: $0.id, text: $0.text, kind: .add) },
                                         storedVerbatim: !request.infer)
                return .apply(accepted.map { .add($0) }, outcome, eventId: outcome.eventId)
            }
            logger.info("add", metadata: [
                "tenant": .string(context.tenant), "request_id": .string(context.requestId),
                "partition": .string(key.description), "memories": .stringConvertible(answer.applied?.events.count ?? 0),
            ])
            return answer
        }
    }

    /// The texts an add stores without a chat model.
    static func candidateTexts(_ request: AddRequest) -> [String] {
        request.messages
            .filter { request.infer ? $0.role == "user" : $0.role != "system" }
            .map { $0.content.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    /// True when `hash` or a vector at least `nearDuplicateSimilarity` close is already among `memories`.
    func isDuplicate(hash: String, vector: [Float], in memories: [StoredMemory]) -> Bool {
        let limit = options.nearDuplicateSimilarity
        let hash = ContentHash(hash)  // compared as stored, without formatting each memory's hash as text
        for m in memories {
            if m.contentHash == hash { return true }
            // `StoredVector.dot` reads the stored codes in place (no float copy per memory).
            if m.vector.dimension == vector.count, m.vector.dot(vector) >= limit { return true }
        }
        return false
    }

    static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
