import Foundation
import JSONModel
import MemoryStorage

/// Canonical descriptions of what a write request asks, for ``IdempotentWrite``: two requests with the same
/// description are the same request; anything that would change what is written changes it.
extension AddRequest {
    var fingerprint: JSONValue {
        .object([
            "op": .string("add"),
            "messages": .array(messages.map { .array([.string($0.role), .string($0.content)]) }),
            "scopes": scopes.fingerprint,
            "metadata": metadata,
            "infer": .bool(infer),
            "expiration_date": Self.date(expirationDate),
            "timestamp": Self.date(timestamp),
            "custom_instructions": customInstructions.map { .string($0) } ?? .null,
            "includes": includes.map { .string($0) } ?? .null,
            "excludes": excludes.map { .string($0) } ?? .null,
        ])
    }

    static func date(_ d: Date?) -> JSONValue { d.map { .number($0.timeIntervalSince1970) } ?? .null }
}

extension UpdateRequest {
    func fingerprint(id: UUID) -> JSONValue {
        let expiration: JSONValue
        switch self.expiration {
        case .unchanged: expiration = .string("unchanged")
        case .clear: expiration = .null
        case .set(let d): expiration = .number(d.timeIntervalSince1970)
        }
        return .object([
            "op": .string("update"), "id": .string(id.uuidString.lowercased()),
            "text": text.map { .string($0) } ?? .null,
            "metadata": metadata.map { .object($0) } ?? .null,
            "expiration_date": expiration,
        ])
    }
}

extension MemoryService {
    /// `DELETE /v1/memories/{id}/` asks for nothing but the id.
    static func deleteFingerprint(_ id: UUID) -> JSONValue {
        .object(["op": .string("delete"), "id": .string(id.uuidString.lowercased())])
    }
}

extension MemoryScopes {
    var fingerprint: JSONValue {
        .array([userId, agentId, appId, runId].map { $0.map { .string($0) } ?? .null })
    }
}
