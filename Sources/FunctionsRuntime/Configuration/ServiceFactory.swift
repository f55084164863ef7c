import Foundation
import Logging
import MemoryCore

/// Builds the memory service from the configuration: models, then the service over the configured storage.
public enum ServiceFactory {
    public static func makeService(_ config: RuntimeConfiguration, role: HandlerRole = .local,
                                   logger: Logger) async throws -> any MemoryBackend {
        let models = try EmbedderFactory.makeModels(embedderName: config.embedderName, environment: config.environment)
        logger.info("models ready", metadata: [
            "embedder": .string(models.embedder.model), "dimension": .stringConvertible(models.embedder.dimension),
            "chat": .string(models.chat?.model ?? "none (infer=true stores user messages with duplicate suppression)"),
        ])
        var serviceOptions = MemoryServiceOptions()
        serviceOptions.maxFanOutPartitions = config.maxFanOutPartitions
        do {
            return try await MemoryService.open(
                storage: config.storage.location, readOnly: role == .search,
                garbageGracePeriod: TimeInterval(config.compactGraceSeconds), embedder: models.embedder,
                chat: models.chat, options: serviceOptions, logger: logger)
        } catch let error as StorageOpenError {
            throw ConfigurationError(setting: "MEMORY_STORAGE", problem: error.problem)
        }
    }
}
