import Foundation
import Hummingbird
import Logging

/// Builds and runs a handler process: bind 127.0.0.1:port first, build the service concurrently, serve.
public struct HandlerServer: Sendable {
    public let configuration: RuntimeConfiguration
    public let role: HandlerRole
    public let logger: Logger
    public let service: ServiceHandle
    public let responder: HandlerResponder

    /// `makeService` defaults to ``ServiceFactory/makeService(_:role:logger:)``; tests and the benchmark pass their own.
    public init(configuration: RuntimeConfiguration, role: HandlerRole, logger: Logger,
                makeService: (@Sendable () async throws -> any MemoryBackend)? = nil) {
        self.configuration = configuration
        self.role = role
        self.logger = logger
        let build = makeService ?? { [configuration, role, logger] in
            try await ServiceFactory.makeService(configuration, role: role, logger: logger)
        }
        let service = ServiceHandle(build)
        self.service = service
        let authenticator = Authenticator(keys: configuration.apiKeys,
                                          entra: EntraAuthentication.make(configuration.entra, logger: logger))
        let router = HandlerRouter.make(role: role, authenticator: authenticator, service: service,
                                        maxBodyBytes: configuration.maxBodyBytes)
        let functions = FunctionsInvocationResponder(
            router: router.buildResponder(), role: role, authenticator: authenticator, service: service,
            maxBodyBytes: configuration.maxBodyBytes, trustsHostTimerCalls: configuration.startedByFunctionsHost)
        responder = HandlerResponder(log: RequestLogMiddleware(role: role, logger: logger), functions: functions)
    }

    /// The Hummingbird application (for `runService()` or HummingbirdTesting).
    public func application(port: Int? = nil) -> Application<HandlerResponder> {
        Application(
            responder: responder,
            // One timer for a connection that sends no complete request head, a body that stalls, and a kept-alive
            // connection left idle: half-open connections cannot pile up.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port ?? configuration.port),
                                                    serverName: nil),
            logger: logger)
    }

    /// Serves until SIGTERM/SIGINT; `memory-local` also compacts every `MEMORY_LOCAL_COMPACT_SECONDS`.
    public func run() async throws {
        let app = application()
        let scheduler = role == .local && configuration.localCompactInterval > 0
            ? CompactionScheduler(interval: .seconds(configuration.localCompactInterval), service: service, logger: logger)
            : nil
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            if let scheduler {
                group.addTask { await scheduler.run() }
            }
            // The server ending (signal or error) ends the process; the scheduler is cancelled with it.
            try await group.next()
            group.cancelAll()
        }
    }
}
