import Foundation
import Logging
import MemoryCore

/// The `main` of every handler executable: read settings, set up JSON logging, bind, serve.
///
/// Bad settings print one line to stderr (`memory-add: configuration error: MEMORY_API_KEYS: …`) and exit 2.
/// `--hash-key KEY` prints the SHA-256 to put in `MEMORY_API_KEYS` and exits.
public enum HandlerMain {
    public static func run(role: HandlerRole, arguments: [String] = CommandLine.arguments) async {
        let missingCPUFlags = CPUFeatureCheck.missingFlags()
        if !missingCPUFlags.isEmpty { fail(role, CPUFeatureCheck.failureMessage(missing: missingCPUFlags)) }
        let args = Array(arguments.dropFirst())
        if let i = args.firstIndex(of: "--hash-key") {
            guard i + 1 < args.count else { fail(role, "--hash-key needs the key as its argument") }
            print(APIKeyTable.hash(key: args[i + 1]))
            exit(0)
        }
        if args.contains("--help") || args.contains("-h") {
            print("""
            \(role.executable): AgentMemory Azure Functions custom handler (\(role.rawValue) role).
            Binds 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT (default 7071). Settings: docs/functions.md.
              --hash-key KEY   print the SHA-256 of KEY for MEMORY_API_KEYS (tenant:role:sha256hex;…)
            """)
            exit(0)
        }
        let configuration: RuntimeConfiguration
        do throws(ConfigurationError) {
            configuration = try RuntimeConfiguration.fromProcess()
        } catch {
            fail(role, error.description)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        var logger = Logger(label: role.executable)
        logger.logLevel = level

        let started = ContinuousClock.now
        let server = HandlerServer(configuration: configuration, role: role, logger: logger) { [configuration, logger] in
            do {
                let service = try await ServiceFactory.makeService(configuration, role: role, logger: logger)
                logger.info("memory service ready", metadata: ["startup_ms": .stringConvertible((ContinuousClock.now - started).milliseconds)])
                return service
            } catch let error as ConfigurationError {
                fail(role, error.description)
            }
        }
        logger.info("starting", metadata: [
            "role": .string(role.rawValue),
            "address": .string("127.0.0.1:\(configuration.port)"),
            "storage": .string(configuration.storage.redacted),
            "embedder": .string(configuration.embedderName),
            "max_body_bytes": .stringConvertible(configuration.maxBodyBytes),
        ])
        if configuration.entra.acceptsTokens || configuration.entra.trustAppServiceAuth {
            logger.info("entra id callers accepted", metadata: [
                "issuers": .stringConvertible(configuration.entra.issuers.count),
                "app_service_auth": .stringConvertible(configuration.entra.trustAppServiceAuth),
                "user_claim": .string(configuration.entra.userClaim ?? "none"),
            ])
        }
        if configuration.apiKeys.isOpen && !configuration.entra.acceptsTokens && !configuration.entra.trustAppServiceAuth {
            logger.warning("no MEMORY_API_KEYS configured: every request is tenant 'default' with the admin role (local run only; set MEMORY_API_KEYS in Azure)")
        }
        do {
            try await server.run()
        } catch {
            fail(role, "the server stopped: \(error) (is 127.0.0.1:\(configuration.port) already in use? set FUNCTIONS_CUSTOMHANDLER_PORT)")
        }
    }

    static func fail(_ role: HandlerRole, _ line: String) -> Never {
        FileHandle.standardError.write(Data("\(role.executable): \(line)\n".utf8))
        exit(2)
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
