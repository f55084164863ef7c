import Foundation
import MemoryCore

/// The memory service, built in the background while the server already answers `GET /`.
///
/// The Functions host polls `GET /` from the moment it starts the process and gives up after 30–60 s; opening
/// storage or loading an embedding model must not delay that answer. Requests that need the service await the
/// build. In the handler executables a failed build ends the process (``HandlerMain`` prints the setting and
/// exits 2), so requests only ever see a built service; a build that throws without ending the process (a
/// test's or a benchmark's) makes each such request fail with that error, mapped like any other
/// (``APIError/mapped(_:requestId:request:)``: a ``ConfigurationError`` is a 503 naming the setting).
public final class ServiceHandle: Sendable {
    private let task: Task<any MemoryBackend, any Error>

    /// Starts `build` now, concurrently with the caller.
    public init(_ build: @escaping @Sendable () async throws -> any MemoryBackend) {
        task = Task { try await build() }
    }

    /// The service, once built; rethrows the build's error.
    public func backend() async throws -> any MemoryBackend {
        try await task.value
    }
}
