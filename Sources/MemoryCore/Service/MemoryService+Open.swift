import Foundation
import Logging
import MemoryStorage
import ModelClients

/// Where a service keeps its partitions (the storage engine's one location type, named here so the HTTP layer
/// builds one without importing the engine).
public typealias StorageLocation = MemoryStorage.StorageLocation

/// The storage could not be opened at startup; `problem` says what to fix (docs/azure-blob.md).
public struct StorageOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problem: String

    public init(problem: String) { self.problem = problem }

    public var description: String { problem }
}

extension MemoryService {
    /// Opens storage and builds the service over it: blob store → partition store (with the search index's
    /// snapshot sections) → service. `readOnly` (the search app, which may hold a read-only identity) checks at
    /// startup only that the container can be read; otherwise that it can be written and deleted in too.
    public static func open(
        storage: StorageLocation, readOnly: Bool, garbageGracePeriod: TimeInterval, embedder: any Embedder,
        chat: (any ChatModel)?, options: MemoryServiceOptions, logger: Logger
    ) async throws -> MemoryService {
        var storeOptions = PartitionStoreOptions()
        storeOptions.garbageGracePeriod = garbageGracePeriod
        let store = PartitionStore(blobs: try await openBlobs(storage, readOnly: readOnly),
                                   options: Self.storeOptions(storeOptions), logger: logger)
        return MemoryService(store: store, embedder: embedder, chat: chat, options: options, logger: logger)
    }

    /// The blob store of `location`, checked as ``open(storage:readOnly:garbageGracePeriod:embedder:chat:options:logger:)`` says.
    static func openBlobs(_ location: StorageLocation, readOnly: Bool) async throws(StorageOpenError) -> any BlobStore {
        if case .folder(let root, _) = location {
            do {
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            } catch {
                throw StorageOpenError(problem: "cannot create the storage folder \(root.path): \(error.localizedDescription); "
                                           + "point it at a writable folder")
            }
        }
        let store: any BlobStore
        do {
            store = try location.makeStore(logger: Logger(label: "memory.storage.azure"))
        } catch {
            throw StorageOpenError(problem: "\(error)")
        }
        if let azure = store as? AzureBlobStore {
            do {
                try await azure.verifyAccess(requireWrite: !readOnly)
            } catch {
                throw StorageOpenError(problem: "\(error)")
            }
        }
        return store
    }
}
