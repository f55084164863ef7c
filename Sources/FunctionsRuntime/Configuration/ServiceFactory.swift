import Foundation
import Logging
import MemoryCore
import MemoryStorage

/// Builds the memory service from the configuration: blob store → partition store → embedder → service.
public enum ServiceFactory {
    public static func makeService(_ config: RuntimeConfiguration, role: HandlerRole = .local,
                                   logger: Logger) async throws -> any MemoryBackend {
        let models = try EmbedderFactory.makeModels(embedderName: config.embedderName, environment: config.environment)
        let blobs = try await config.storage.makeBlobStore(readOnly: role == .search)
        var storeOptions = PartitionStoreOptions()
        storeOptions.garbageGracePeriod = TimeInterval(config.compactGraceSeconds)
        let store = PartitionStore(blobs: blobs, options: MemoryService.storeOptions(storeOptions), logger: logger)
        logger.info("models ready", metadata: [
            "embedder": .string(models.embedder.model), "dimension": .stringConvertible(models.embedder.dimension),
            "chat": .string(models.chat?.model ?? "none (infer=true stores user messages with duplicate suppression)"),
        ])
        var serviceOptions = MemoryServiceOptions()
        serviceOptions.maxFanOutPartitions = config.maxFanOutPartitions
        return MemoryService(store: store, embedder: models.embedder, chat: models.chat, options: serviceOptions, logger: logger)
    }
}
