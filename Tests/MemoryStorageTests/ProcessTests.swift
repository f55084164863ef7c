import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// Real processes (the built `memory-tool`) writing, dying and compacting on one partition.
/// Needs `swift build` before `swift test` (see ``ToolProcess``).
@Suite(.serialized) struct ProcessTests {
    func partitionArgs(_ b: TestBackend, _ key: PartitionKey) -> [String] {
        ["--storage", b.storageArgument, "--tenant", key.tenant, "--user", key.owner.id]
    }

    /// Memory ids of `ack` lines.
    func ackedIds(_ lines: [String]) -> [String] {
        lines.filter { $0.hasPrefix("ack ") }.flatMap { line -> [String] in
            let parts = line.split(separator: " ")
            return parts.count == 4 ? parts[3].split(separator: ",").map(String.init) : []
        }
    }

    /// The `memory` lines of a dump, as (id, text).
    func dump(_ b: TestBackend, _ key: PartitionKey) async throws -> [String] {
        let r = try await ToolProcess.run(["dump"] + partitionArgs(b, key))
        #expect(r.status == 0, "dump failed: \(r.stderr)")
        return r.lines.filter { $0.hasPrefix("memory ") }
    }

    @Test func fourWriterProcessesEveryAckOnceOneOrder() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let writers = try (0..<4).map { w in
            try ToolProcess.start(["append"] + partitionArgs(b, key) + ["--count", "40", "--batch", "2", "--writer-id", "w\(w)"])
        }
        var acked: [String] = []
        for w in writers {
            let status = try await w.wait()
            #expect(status == 0, "writer failed: \(w.errors)")
            acked += ackedIds(w.lines)
        }
        #expect(acked.count == 4 * 40 * 2)
        // Three independent reader processes.
        var dumps: [[String]] = []
        for _ in 0..<3 { dumps.append(try await dump(b, key)) }
        #expect(dumps[0] == dumps[1])
        #expect(dumps[1] == dumps[2])
        let ids = dumps[0].map { String($0.split(separator: " ")[1]) }
        #expect(ids.count == acked.count, "every acknowledged record exactly once")
        #expect(Set(ids) == Set(acked))
        // Each writer's requests appear in the order it made them.
        for w in 0..<4 {
            let mine = dumps[0].compactMap { line -> Int? in
                let p = line.split(separator: " ")
                return p.count >= 8 && p[3] == "w\(w)" && p[7] == "0" ? Int(p[5]) : nil
            }
            #expect(mine == Array(0..<40))
        }
    }

    @Test func writerKilledAtRandomMomentsLosesNoAcknowledgedRecord() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        var acked = Set<String>()
        var kills = 0
        for round in 0..<20 {
            let w = try ToolProcess.start(["append"] + partitionArgs(b, key) + ["--count", "100000", "--batch", "3", "--writer-id", "k\(round)"])
            // Let it start and write for a random while (process start-up dominates the low end).
            try await Task.sleep(nanoseconds: UInt64.random(in: 150_000_000...900_000_000))
            w.kill9()
            let status = try await w.wait()
            if status != 0 { kills += 1 }
            acked.formUnion(ackedIds(w.lines))
            // The partition opens, in a fresh process-local store, with every acknowledged record.
            let state = try await PartitionStore(blobs: b.store, logger: Logger(label: "test")).read(key)
            let present = state.memories.map(\.id.uuidString)
            #expect(Set(present).isSuperset(of: acked), "round \(round): acknowledged records missing")
            #expect(Set(present).count == present.count, "round \(round): duplicates")
            if round == 10 {
                // Compaction in the middle of the killing does not change that.
                let r = try await ToolProcess.run(["compact"] + partitionArgs(b, key) + ["--grace", "0"])
                #expect(r.status == 0, "compaction failed: \(r.stderr)")
            }
        }
        #expect(kills >= 15, "the writer should usually be killed mid-run")
        #expect(acked.count > 20)
        #expect(Set(try await dump(b, key).map { String($0.split(separator: " ")[1]) }).isSuperset(of: acked))
    }

    @Test(arguments: CompactionStep.allCases)
    func crashAtEachCompactionStepThenRerunMatchesAnUninterruptedRun(_ step: CompactionStep) async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        // Base: records, an update, a delete and a purge (whose text must vanish physically).
        let base = try await ToolProcess.run(["append"] + partitionArgs(b, key) + ["--count", "30", "--batch", "2", "--writer-id", "base"])
        #expect(base.status == 0, "\(base.stderr)")
        let state0 = try await store.read(key)
        var updated = state0.memories[0]
        updated.text = "updated text"
        _ = try await store.write(key, space: nil) { _ in
            .append(LogBatch(operations: [.update(updated), .delete(id: state0.memories[1].id, at: Date()),
                                          .purge(id: state0.memories[2].id, at: Date())]), ())
        }
        let purgedText = state0.memories[2].text

        // The control: a copy of the folder, compacted without interruption.
        let control = try TestBlobStores.make()
        if let from = b.folder, let to = control.folder {
            try copyTree(from: from, to: to)
        } else {
            try await AzureTestBackend.copyBlobs(from: b.store, to: control.store)
        }
        let c = try await ToolProcess.run(["compact"] + partitionArgs(control, key) + ["--grace", "0"])
        #expect(c.status == 0, "\(c.stderr)")

        // A writer runs while the compaction crashes and is rerun.
        let duringCount = 150
        let writer = try ToolProcess.start(["append"] + partitionArgs(b, key) + ["--count", "\(duringCount)", "--writer-id", "during"])
        let crashed = try await ToolProcess.run(["compact"] + partitionArgs(b, key) + ["--grace", "0", "--crash-after", step.rawValue])
        #expect(crashed.status == 86, "compaction should have crashed after \(step): \(crashed.lines) \(crashed.stderr)")
        // Readers still see a consistent partition between crash and rerun.
        #expect(try await dump(b, key).count >= 58)
        let rerun = try await ToolProcess.run(["compact"] + partitionArgs(b, key) + ["--grace", "0"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try await writer.wait() == 0, "writer failed: \(writer.errors)")
        let during = Set(ackedIds(writer.lines))
        #expect(during.count == duringCount)
        let final = try await ToolProcess.run(["compact"] + partitionArgs(b, key) + ["--grace", "0"])
        #expect(final.status == 0)

        let got = try await dump(b, key)
        let want = try await dump(control, key)
        let gotBase = got.filter { !$0.contains(" during request ") }
        #expect(Set(gotBase) == Set(want), "same live memories as the uninterrupted run")
        #expect(Set(got.filter { $0.contains(" during request ") }.map { String($0.split(separator: " ")[1]) }) == during)
        let fresh = try await PartitionStore(blobs: b.store, logger: Logger(label: "test")).read(key)
        let controlState = try await PartitionStore(blobs: control.store, logger: Logger(label: "test")).read(key)
        #expect(fresh.history.all.filter { !during.contains($0.key.uuidString) } == controlState.history.all)
        #expect(fresh.revision == controlState.revision + UInt64(duringCount))
        // Physically gone, and nothing unreferenced left behind.
        for item in try await b.store.listAll(prefix: key.prefix) {
            let bytes = try await b.store.get(item.name).data
            #expect(bytes.range(of: Data(purgedText.utf8)) == nil, "purged text still in \(item.name)")
        }
        let names = try await b.store.listAll(prefix: key.prefix).map(\.name)
        #expect(names.count == 3, "manifest, one snapshot, one active segment: \(names)")
    }

    @Test func tornAndCorruptTailsAreSkippedWithAWarning() async throws {
        let b = try TestBlobStores.make()
        let key = Fixtures.key()
        let w = try await ToolProcess.run(["append"] + partitionArgs(b, key) + ["--count", "5"])
        #expect(w.status == 0)
        let acked = Set(ackedIds(w.lines))
        let store = PartitionStore(blobs: b.store, logger: Logger(label: "test"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: try await b.store.get(key.prefix + "manifest.json").data) as? [String: Any])
        let active = try #require((manifest["logs"] as? [[String: Any]])?.last?["name"] as? String)
        let blob = key.prefix + active
        let size = try await b.store.properties(blob).size

        // 1. A torn append (bytes past the committed length, as a writer killed mid-append leaves): invisible.
        if let folder = b.folder {
            let h = try FileHandle(forWritingTo: folder.appendingPathComponent(blob + "~"))
            try h.seekToEnd()
            try h.write(contentsOf: LogCodec.encode(LogBatch(operations: [])).prefix(9))
            try h.close()
        }
        #expect(Set(try await dump(b, key).map { String($0.split(separator: " ")[1]) }) == acked)

        // 2. Committed bytes that are not a record: skipped with a warning naming partition, blob and offset.
        var bad = LogCodec.encode(LogBatch(operations: [.purge(id: UUID(), at: Date())]))
        bad[bad.count - 3] ^= 0xFF
        try await b.store.appendBlock(blob, data: bad, expectedPosition: size)
        let r = try await ToolProcess.run(["dump"] + partitionArgs(b, key))
        #expect(r.status == 0)
        #expect(Set(r.lines.filter { $0.hasPrefix("memory ") }.map { String($0.split(separator: " ")[1]) }) == acked)
        #expect(r.stderr.contains("torn or corrupt tail"))
        #expect(r.stderr.contains("offset=\(size)"))
        #expect(r.stderr.contains(blob))
        #expect(r.stderr.contains("CRC32C mismatch"))

        // 3. Writing goes on (in a new generation) and nothing is lost.
        let more = try await ToolProcess.run(["append"] + partitionArgs(b, key) + ["--count", "3", "--writer-id", "after"])
        #expect(more.status == 0, "\(more.stderr)")
        let all = acked.union(ackedIds(more.lines))
        #expect(Set(try await store.read(key).memories.map(\.id.uuidString)) == all)
        let c = try await ToolProcess.run(["compact"] + partitionArgs(b, key) + ["--grace", "0"])
        #expect(c.status == 0)
        #expect(Set(try await dump(b, key).map { String($0.split(separator: " ")[1]) }) == all)
    }

    private func copyTree(from: URL, to: URL) throws {
        let fm = FileManager.default
        for item in try fm.contentsOfDirectory(atPath: from.path) where item != ".locks" {
            try fm.copyItem(at: from.appendingPathComponent(item), to: to.appendingPathComponent(item))
        }
    }
}
