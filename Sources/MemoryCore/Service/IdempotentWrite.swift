import Crypto
import Foundation
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

    /// The answer to give for this key in `state`: nil when the key is new there. Throws 409 when the key was
    /// used for a different request.
    func replay(in state: PartitionState) throws -> JSONValue? {
        guard let stored = state.idempotentResponses[key] else { return nil }
        if stored.isErased {
            return MemoryJSON.message(
                "This request was already applied (same Idempotency-Key); what it wrote has since been deleted.")
        }
        let recorded = try JSONValue.decode(stored.response)
        guard case .object(let o) = recorded, o.count == 2, case .string(let fp)? = o["request_fingerprint"],
              let answer = o["answer"] else {
            return recorded  // written before fingerprints were kept: the answer alone
        }
        guard fp == fingerprint else {
            throw MemoryServiceError(
                .conflict, code: "idempotency_key_reused",
                detail: "Idempotency-Key '\(key.prefix(64))' was already used for a different request in this scope "
                    + "within the last 24 hours; nothing was written: send a new key for a new request")
        }
        return answer
    }

    /// The bytes stored with the write's record.
    func record(_ answer: JSONValue) -> Data {
        JSONValue.object(["request_fingerprint": .string(fingerprint), "answer": answer]).encoded()
    }
}
