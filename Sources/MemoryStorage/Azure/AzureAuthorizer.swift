import Foundation

/// Puts credentials on a Blob request: a SharedKey signature, a SAS query, or a managed-identity Bearer token.
struct AzureAuthorizer: Sendable {
    enum Mode: Sendable {
        case sharedKey(SharedKeySigner)
        case sas(String)
        case bearer(ManagedIdentityTokenProvider)
    }

    let mode: Mode

    /// Describes the mode for logs (no secrets).
    var summary: String {
        switch mode {
        case .sharedKey(let s): return "SharedKey (account \(s.accountName))"
        case .sas: return "SAS"
        case .bearer: return "managed identity"
        }
    }

    /// Adds the SAS to `query` (a percent-encoded query string without `?`).
    func query(_ query: String) -> String {
        guard case .sas(let sas) = mode else { return query }
        return query.isEmpty ? sas : query + "&" + sas
    }

    /// Sets `Authorization` when the mode needs it. `headers` must already hold every header that will be sent.
    func authorize(method: String, url: URL, headers: inout [String: String]) async throws {
        switch mode {
        case .sharedKey(let signer):
            headers["Authorization"] = signer.authorization(method: method, url: url, headers: headers)
        case .sas:
            break
        case .bearer(let provider):
            headers["Authorization"] = "Bearer " + (try await provider.token().value)
        }
    }

    /// After a `401`: drops a Bearer token that Blob refused so the next try fetches a fresh one. Returns whether
    /// another try can help (only for Bearer tokens).
    func refused(headers: [String: String]) async -> Bool {
        guard case .bearer(let provider) = mode, let value = headers["Authorization"], value.hasPrefix("Bearer ") else {
            return false
        }
        await provider.invalidate(String(value.dropFirst("Bearer ".count)))
        return true
    }
}
