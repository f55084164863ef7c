import Foundation
import JSONModel
import Testing
@testable import MemoryStorage

@Suite struct ContentHashTests {
    @Test func everyTextComesBackExactly() {
        for text in ["", "h", "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF",
                     "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "w1-3-7", "é"] {
            #expect(ContentHash(text).string == text)
        }
        #expect(ContentHash("00ff00ff00ff00ff00ff00ff00ff00fe").md5Bytes
                == [0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 254])
        #expect(ContentHash("0123456789ABCDEF0123456789ABCDEF").md5Bytes == nil)
        #expect(ContentHash(md5Bytes: ContentHash("c4ca4238a0b923820dcc509a6f75849b").md5Bytes!)
                == ContentHash("c4ca4238a0b923820dcc509a6f75849b"))
    }

    /// Hashes of both forms, and metadata and category lists that repeat (decoded once per chunk, looked up by
    /// their bytes) or not, read back equal from a snapshot.
    @Test func snapshotRecordsKeepHashesMetadataAndCategories() throws {
        let owner = PartitionOwner(kind: .user, id: "alice")
        var state = PartitionState(key: PartitionKey(tenant: "acme", owner: owner))
        let hashes = ["c4ca4238a0b923820dcc509a6f75849b", "C4CA4238A0B923820DCC509A6F75849B", "h", ""]
        let memories = (0..<40).map { i in
            var m = Fixtures.memory("memory \(i)", owner: owner,
                                    metadata: i % 3 == 0 ? .null : .object(["k": .number(Double(i % 4)), "s": .string("é\(i % 2)")]))
            m.hash = hashes[i % hashes.count]
            m.categories = [[], ["a"], ["a", "b"], ["b", "a"]][i % 4]
            return m
        }
        state.apply(LogBatch(operations: memories.map { .add($0) }))
        let back = try SnapshotCodec.decode(SnapshotCodec.encode(SnapshotContents(state: state, space: Fixtures.space)),
                                            key: state.key)
        #expect(back.memories.map(\.hash) == state.memories.map(\.hash))
        #expect(back.memories.map(\.metadata) == state.memories.map(\.metadata))
        #expect(back.memories.map(\.categories) == state.memories.map(\.categories))
    }
}
