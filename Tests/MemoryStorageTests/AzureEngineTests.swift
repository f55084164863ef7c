import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// The storage engine (`PartitionStore`, compaction) on `AzureBlobStore` against the test server: concurrent
/// writer processes (`memory-tool append --storage azure:...`, built by `swift build`), injected 503s and lost
/// answers during writes, then compaction, with every acknowledged memory present exactly once.
@Suite struct AzureEngineTests {
    let server: AzureTestServer
    let container = AzureTestServer.uniqueContainer()
    let key = PartitionKey(tenant: "acme", owner: PartitionOwner(kind: .user, id: "alice"))

    init() throws {
        server = try AzureTestServer()
    }

    static var memoryTool: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/memory-tool")
    }

    func partitionStore() throws -> PartitionStore {
        PartitionStore(blobs: try server.store(container: container), logger: Logger(label: "test.engine"))
    }

    /// Runs `memory-tool append` and returns the acknowledged memory ids.
    func runWriter(_ id: String, count: Int) throws -> (process: Process, output: Pipe) {
        let process = Process()
        process.executableURL = Self.memoryTool
        process.arguments = ["append", "--storage", "azure:\(container)@\(server.connectionString())",
                             "--tenant", key.tenant, "--user", key.owner.id, "--count", "\(count)",
                             "--batch", "2", "--writer-id", id]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    @Test func concurrentWriterProcessesThenCompactionKeepEveryAcknowledgedMemoryOnce() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.memoryTool.path),
                "run `swift build` first: \(Self.memoryTool.path) is missing")
        try await server.injectFault(op: "appendblock", status: 503, count: 3)
        let writers = try (0..<3).map { try runWriter("w\($0)", count: 15) }
        var acknowledged: [String] = []
        for (process, output) in writers {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            for line in text.split(separator: "\n") where line.hasPrefix("ack ") {
                acknowledged += line.split(separator: " ")[3].split(separator: ",").map(String.init)
            }
        }
        #expect(acknowledged.count == 3 * 15 * 2)
        let store = try partitionStore()
        let ids = try await store.read(key).memories.map { $0.id.uuidString }
        #expect(ids.count == acknowledged.count)
        #expect(Set(ids) == Set(acknowledged))
        let report = try await store.compact(key)
        #expect(report.compacted)
        #expect(report.liveMemories == acknowledged.count)
        let fresh = try partitionStore()
        #expect(Set(try await fresh.read(key).memories.map { $0.id.uuidString }) == Set(acknowledged))
        #expect(try await server.requests().contains { $0.op == "seal" && $0.status == 200 })
    }

    @Test func writesWhoseAnswersAreLostAreAppliedOnce() async throws {
        let store = try partitionStore()
        let space = EmbeddingSpace(model: "test", dimension: 2)
        var written: [UUID] = []
        for i in 0..<6 {
            if i % 2 == 1 { try await server.injectFault(op: "appendblock", mode: "drop-after", count: 1) }
            let now = Date()
            let memory = StoredMemory(id: key.owner.newMemoryId(), text: "fact \(i)", hash: "h\(i)",
                                      scopes: MemoryScopes(userId: key.owner.id), createdAt: now, updatedAt: now,
                                      embedding: [1, 0])
            _ = try await store.write(key, space: space) { _ in .append(LogBatch(operations: [.add(memory)]), ()) }
            written.append(memory.id)
        }
        let state = try await partitionStore().read(key)
        #expect(state.memories.map(\.id) == written)
        #expect(try await server.requests().filter { $0.op == "appendblock" && $0.status == 0 }.count == 3)
    }
}
