import Foundation
import MemoryCore

/// The memory service, built in the background while the server already answers `GET /`.
///
/// The Functions host polls `GET /` from the moment it starts the process and gives up after 30–60 s; opening
/// storage or loading an embedding model must not delay that answer. Requests that need the service await the
/// build; if it failed, they get a 503 that says why (and the cause is logged once at startup).
public final class ServiceHandle: Sendable {
    private let task: Task<any MemoryBackend, any Error>

    /// Starts `build` now, concurrently with the caller.
    public init(_ build: @escaping @Sendable () async throws -> any MemoryBackend) {
        task = Task { try await build() }
    }

    /// A handle around an already-built backend.
    public convenience init(ready backend: any MemoryBackend) {
        self.init { backend }
    }

    /// The service, once built. Throws ``APIError`` 503 when building failed.
    public func backend() async throws(APIError) -> any MemoryBackend {
        do {
            return try await task.value
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(status: 503, code: "service_unavailable",
                           detail: "the memory service could not start: \(error); fix the setting named and restart")
        }
    }
}
