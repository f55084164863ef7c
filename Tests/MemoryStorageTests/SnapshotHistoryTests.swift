import Foundation
import Testing
@testable import MemoryStorage

/// Histories stay encoded in the snapshot until asked for (`SnapshotHistorySection`, `MemoryHistory`).
@Suite struct SnapshotHistoryTests {
    let owner = PartitionOwner(kind: .user, id: "alice")

    /// 300 memories with updates, deletions (history kept) and purges (history dropped).
    func busyState() -> PartitionState {
        var s = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        let ms = (0..<300).map { Fixtures.memory("memory \($0) ünïcode", owner: owner) }
        s.apply(LogBatch(operations: ms.map { .add($0) }))
        for i in stride(from: 0, to: 300, by: 7) {
            var u = ms[i]
            u.text = "memory \(i), updated"
            s.apply(LogBatch(operations: [.update(u)]))
        }
        for i in stride(from: 3, to: 300, by: 11) { s.apply(LogBatch(operations: [.delete(id: ms[i].id, at: Date(timeIntervalSince1970: Double(i)))])) }
        for i in stride(from: 5, to: 300, by: 13) { s.apply(LogBatch(operations: [.purge(id: ms[i].id, at: Date(timeIntervalSince1970: 1))])) }
        return s
    }

    func reopened(_ s: PartitionState) throws -> PartitionState {
        try SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space)), key: s.key).state
    }

    @Test func everyHistoryReadsBackOnDemand() throws {
        let s = busyState()
        let back = try reopened(s)
        #expect(back.history.count == s.history.count)
        #expect(back.history.all == s.history.all)
        for (id, entries) in s.history.all {
            #expect(back.history[id] == entries)
        }
        #expect(back.history[UUID()] == nil)
    }

    @Test func changesAfterOpeningOverlayTheSnapshotHistories() throws {
        var control = busyState()
        var back = try reopened(control)
        let live = control.memories
        var u = live[1]
        u.text = "changed after the snapshot"
        let more = Fixtures.memory("new after the snapshot", owner: owner)
        let batches = [
            LogBatch(operations: [.update(u)]),
            LogBatch(operations: [.purge(id: live[2].id, at: Date(timeIntervalSince1970: 5))]),
            LogBatch(operations: [.delete(id: live[3].id, at: Date(timeIntervalSince1970: 6))]),
            LogBatch(operations: [.add(more)]),
        ]
        for b in batches {
            control.apply(b)
            back.apply(b)
        }
        #expect(back.history.count == control.history.count)
        #expect(back.history.all == control.history.all)
        #expect(back.history[live[2].id] == nil)
        #expect(back.history[live[1].id]?.map(\.event) == control.history[live[1].id]?.map(\.event))
        #expect(back.history[more.id]?.first?.newText == "new after the snapshot")
    }

    @Test func everyTruncationOfTheHistorySectionFailsTheOpen() throws {
        let s = busyState()
        let data = [UInt8](SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space)))
        let history = try #require(Self.section(kind: SnapshotCodec.Kind.history.rawValue, in: data))
        let contents = try SnapshotCodec.decode(Data(data), key: s.key)
        let full = data[history]
        _ = try SnapshotHistorySection(section: full, records: contents.memories, idIndex: nil)
        var tried = 0, rejected = 0
        for length in stride(from: 0, to: full.count, by: max(1, full.count / 300)) {
            tried += 1
            do {
                _ = try SnapshotHistorySection(section: full.prefix(length), records: contents.memories, idIndex: nil)
            } catch {
                rejected += 1
            }
        }
        #expect(tried > 100)
        #expect(rejected == tried)
    }

    @Test func anIdIndexThatIsNotAnAscendingPermutationIsRejected() throws {
        let s = busyState()
        let data = [UInt8](SnapshotCodec.encode(SnapshotContents(state: s, space: Fixtures.space)))
        let contents = try SnapshotCodec.decode(Data(data), key: s.key)
        let history = data[try #require(Self.section(kind: SnapshotCodec.Kind.history.rawValue, in: data))]
        var index = Array(data[try #require(Self.section(kind: SnapshotCodec.Kind.idIndex.rawValue, in: data))])
        _ = try SnapshotHistorySection(section: history, records: contents.memories, idIndex: index[...])
        index.swapAt(0, 4)  // first two entries exchanged: no longer ascending
        index.swapAt(1, 5); index.swapAt(2, 6); index.swapAt(3, 7)
        #expect(throws: SnapshotFormatError.self) {
            _ = try SnapshotHistorySection(section: history, records: contents.memories, idIndex: index[...])
        }
        #expect(throws: SnapshotFormatError.self) {
            _ = try SnapshotHistorySection(section: history, records: contents.memories, idIndex: index.dropLast(4))
        }
    }

    /// The byte range of the first section of `kind` (docs/snapshot-format.md: 16-byte header, 32-byte entries).
    static func section(kind: UInt32, in data: [UInt8]) -> Range<Int>? {
        func u32(_ o: Int) -> UInt32 { data[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ o: Int) -> Int { Int(data[o..<o + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        let count = Int(u32(8))
        for i in 0..<count {
            let entry = 16 + i * 32
            if u32(entry) == kind { return u64(entry + 8)..<(u64(entry + 8) + u64(entry + 16)) }
        }
        return nil
    }
}
