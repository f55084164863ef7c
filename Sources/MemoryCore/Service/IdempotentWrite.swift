import Crypto
import Foundation
import JSONModel
import MemoryStorage

/// A write that carries an `Idempotency-Key`: the key and a fingerprint of what the request asked for.
///
/// The answer is stored with the write's log record as `{"request_fingerprint", "answer"}`. A retry with the
/// same key and the same request gets the stored answer and writes nothing; the same key with another request
/// is refused with 409 `idempotency_key_reused` (it must not silently drop the new content); a key whose
/// memories have since been erased answers that the request was applied, without quoting what was erased.
/// Keys are kept for ``PartitionStoreOptions/idempotencyRetention`` (24 h), per partition.
struct IdempotentWrite: Sendable {
    let key: String
    let fingerprint: String

    /// Nil when the request has no key. `request` is a canonical description of everything the request asks
    /// (operation, target and body fields).
    init?(key: String?, request: @autoclosure () -> JSONValue) {
        guard let key else { return nil }
        self.key = key
        self.fingerprint = SHA256.hash(data: request().encoded())
            .map { String(format: "%02x", $0) }.joined()
    }

    /// The answer recorded for this key in `state`: nil when the key is new there. Throws 409 when the key was
    /// used for a different request.
    func replay(in state: PartitionState) throws(MemoryServiceError) -> RecordedAnswer? {
        guard let stored = state.idempotentResponses[key] else { return nil }
        if stored.isErased { return .erased }
        let recorded = try JSONValue.decode(stored.response)
        guard case .object(let o) = recorded, o.count == 2, case .string(let fp)? = o["request_fingerprint"],
              let answer = o["answer"] else {
            return .answer(recorded)  // written before fingerprints were kept: the answer alone
        }
        guard fp == fingerprint else {
            throw MemoryServiceError(
                .conflict, code: "idempotency_key_reused",
                detail: "Idempotency-Key '\(key.prefix(64))' was already used for a different request in this scope "
                    + "within the last 24 hours; nothing was written: send a new key for a new request")
        }
        return .answer(answer)
    }

    /// The bytes stored with the write's record.
    func record(_ answer: JSONValue) -> Data {
        JSONValue.object(["request_fingerprint": .string(fingerprint), "answer": answer]).encoded()
    }
}

/// What a write decides to do with the partition's current state (see ``MemoryService/write(_:space:idempotent:at:encode:_:)``).
enum WritePlan<Value: Sendable>: Sendable {
    /// Write and record nothing; answer `Value` (e.g. the memory is not there).
    case nothing(Value)
    /// Append these operations (none: only the idempotent answer is recorded, if there is a key) as one batch
    /// with this event id, and answer `Value`.
    case apply([LogOperation], Value, eventId: UUID)
}

extension MemoryService {
    /// The one write path of the service's single-partition writes (add, update, delete). With an idempotency
    /// key, a recorded answer is replayed (checked again inside the write, so two concurrent retries append
    /// once), and the fresh answer, as ``ResponseEncoding`` sends it, is recorded with the batch.
    func write<Value: Sendable>(
        _ key: PartitionKey, space: EmbeddingSpace?, idempotent: IdempotentWrite?, at now: Date,
        encode: (Value) -> JSONValue, _ plan: (PartitionState) throws -> WritePlan<Value>
    ) async throws -> WriteAnswer<Value> {
        let (answer, _) = try await store.write(key, space: space) { state -> WriteDecision<WriteAnswer<Value>> in
            if let recorded = try idempotent?.replay(in: state) { return .skip(.replayed(recorded)) }
            switch try plan(state) {
            case .nothing(let value):
                return .skip(.applied(value))
            case .apply(let operations, let value, let eventId):
                if operations.isEmpty, idempotent == nil { return .skip(.applied(value)) }
                return .append(LogBatch(operations: operations, idempotencyKey: idempotent?.key,
                                        idempotentResponse: idempotent?.record(encode(value)),
                                        eventId: eventId, writtenAt: now), .applied(value))
            }
        }
        return answer
    }

    /// The answer recorded for `idempotent` in the partition now, read before doing expensive work (embedding,
    /// the chat model) for a retry; ``write(_:space:idempotent:at:encode:_:)`` checks again.
    func recordedAnswer(_ idempotent: IdempotentWrite?, in key: PartitionKey) async throws -> RecordedAnswer? {
        guard let idempotent else { return nil }
        return try idempotent.replay(in: try await store.read(key))
    }
}
