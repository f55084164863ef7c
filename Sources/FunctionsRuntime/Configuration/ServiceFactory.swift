import Foundation
import Logging
import MemoryCore
import MemoryStorage

/// Builds the memory service from the configuration: blob store → partition store → embedder → service.
public enum ServiceFactory {
    public static func makeService(_ config: RuntimeConfiguration, logger: Logger) async throws -> any MemoryBackend {
        let embedder = try EmbedderFactory.make(name: config.embedderName, environment: config.environment)
        let blobs = try await config.storage.makeBlobStore()
        let store = PartitionStore(blobs: blobs, logger: logger)
        return MemoryService(store: store, embedder: embedder, logger: logger)
    }
}
