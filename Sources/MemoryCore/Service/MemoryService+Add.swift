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
    /// Answers `{"status":"SUCCEEDED","event_id","results":[{"id","memory","event","data":{"memory"}}]}`.
    /// With an idempotency key, a retry returns the first answer and writes nothing (``IdempotentWrite``).
    public func add(_ request: AddRequest, _ context: RequestContext) async throws -> JSONValue {
        try await guarded("add", context) {
            guard let owner = request.scopes.owner else {
                throw MemoryServiceError.invalid("name at least one of user_id, agent_id, app_id, run_id",
                                                 code: "missing_entity_id")
            }
            let key = PartitionKey(tenant: context.tenant, owner: owner)
            let idempotent = IdempotentWrite(key: request.idempotencyKey ?? context.idempotencyKey,
                                             request: request.fingerprint)
            if let idempotent, let answer = try idempotent.replay(in: try await store.read(key)) {
                return answer
            }
            if request.infer, let chat {
                return try await addInferred(request, key: key, chat: chat, idempotent: idempotent, context)
            }
            let texts = Self.candidateTexts(request)
            let vectors = texts.isEmpty ? [] : try await embedder.embed(texts, purpose: .document)
            let created = request.timestamp ?? context.now
            let (answer, _) = try await store.write(key, space: space) { state -> WriteDecision<JSONValue> in
                if let answer = try idempotent?.replay(in: state) { return .skip(answer) }
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
                let batch = LogBatch(operations: accepted.map { .add($0) }, idempotencyKey: idempotent?.key,
                                     writtenAt: context.now)
                let answer = Self.addAnswer(accepted.map { ($0.id, $0.text, "ADD") }, eventId: batch.eventId,
                                            verbatim: !request.infer)
                if accepted.isEmpty, idempotent == nil { return .skip(answer) }
                var stored = batch
                stored.idempotentResponse = idempotent?.record(answer)
                return .append(stored, answer)
            }
            logger.info("add", metadata: [
                "tenant": .string(context.tenant), "request_id": .string(context.requestId),
                "partition": .string(key.description), "memories": .stringConvertible(answer["results"]?.arrayValue?.count ?? 0),
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
        for m in memories {
            if m.hash == hash { return true }
            // `StoredVector.dot` reads the stored codes in place (no float copy per memory).
            if m.vector.dimension == vector.count, m.vector.dot(vector) >= limit { return true }
        }
        return false
    }

    static func addAnswer(_ events: [(UUID, String, String)], eventId: UUID, verbatim: Bool) -> JSONValue {
        var o: [String: JSONValue] = [
            "status": .string("SUCCEEDED"),
            "event_id": .string(eventId.uuidString.lowercased()),
            "results": .array(events.map { id, text, event in
                .object(["id": .string(id.uuidString.lowercased()), "memory": .string(text),
                         "event": .string(event), "data": .object(["memory": .string(text)])])
            }),
        ]
        if verbatim { o["message"] = .string("Memories stored verbatim (infer=false).") }
        return .object(o)
    }

    static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<min(pa.count, pb.count) { s += pa[i] * pb[i] }
            }
        }
        return s
    }
}
