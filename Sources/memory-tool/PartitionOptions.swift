import ArgumentParser
import Foundation
import Logging
import MemoryStorage

/// `--storage`, `--tenant` and the owner of the partition a command works on.
struct PartitionOptions: ParsableArguments {
    @Option(help: "Storage location: a folder, file:/folder, file-nosync:/folder (no fsync).")
    var storage: String

    @Option(help: "Tenant name.")
    var tenant: String

    @Option(help: "Owner kind: user, agent, app or run.")
    var kind: String = "user"

    @Option(name: [.customLong("user"), .customLong("owner")], help: "Owner id (the user id by default).")
    var owner: String

    func key() throws -> PartitionKey {
        guard let k = OwnerKind(rawValue: kind) else { throw ValidationError("unknown owner kind '\(kind)'") }
        return PartitionKey(tenant: tenant, owner: PartitionOwner(kind: k, id: owner))
    }

    func blobs() throws -> any BlobStore {
        do { return try StorageLocation(parsing: storage).makeStore() } catch { throw ValidationError("\(error)") }
    }
}

/// Logs to stderr, so stdout stays machine-readable.
func toolLogger() -> Logger {
    var logger = Logger(label: "memory-tool") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .info
    return logger
}

/// Writes a line to stdout and flushes it at once (a killer reading the pipe must see every acknowledgement).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
