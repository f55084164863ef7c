import Foundation
import Testing
@testable import MemoryStorage

/// Every scope id the API accepts (any Unicode, up to 256 characters) names a valid partition on both backends,
/// without collisions, and listings lead back to the exact id.
@Suite struct OwnerNameTests {
    /// The ids that answered 503 before: long ASCII, dots (3 bytes escaped each), Cyrillic, emoji, and mixes.
    static let hostileIds: [String] = [
        String(repeating: "a", count: 235), String(repeating: "a", count: 256), String(repeating: ".", count: 79),
        String(repeating: ".", count: 256), String(repeating: "ж", count: 100), String(repeating: "ж", count: 256),
        String(repeating: "👩‍👩‍👧‍👦", count: 40), String(repeating: "🦄", count: 256), "a/b/../c", "..", ".", "_", "",
        String(repeating: "x", count: 119) + ".", "ok-id",
    ]

    @Test func everySegmentFitsBothBackendsAndNoTwoIdsShareOne() {
        var seen: [String: String] = [:]
        var ids = Self.hostileIds
        for n in stride(from: 30, through: 256, by: 7) {
            ids.append(String(repeating: "é", count: n))
            ids.append(String(repeating: "é", count: n - 1) + "e")
        }
        for id in ids {
            let segment = BlobNameEscaping.segment(id)
            #expect(segment.utf8.count <= BlobNameEscaping.maxEscapedSegment + 1, "\(id.prefix(20)): \(segment.utf8.count) bytes")
            #expect(!segment.contains("/"))
            #expect(segment != "." && segment != "..")
            #expect(seen[segment] == nil || seen[segment] == id, "collision on \(segment)")
            seen[segment] = id
            let key = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: id))
            #expect((key.prefix + "snap/00000001-00000000.snap").utf8.count <= 1024)
            #expect(throws: Never.self) { try FileBlobStore.validate(key.prefix + "log/00000001-00000000.log") }
            if BlobNameEscaping.isHashedSegment(Substring(segment)) {
                #expect(BlobNameEscaping.unescape(segment) == nil)
            } else {
                #expect(BlobNameEscaping.unescape(segment) == id)
            }
        }
    }

    @Test func longIdsWriteReadListCompactAndDeleteOnTheStore() async throws {
        let b = try TestBlobStores.make()
        var o = PartitionStoreOptions()
        o.garbageGracePeriod = 0
        let s = PartitionStore(blobs: b.store, options: o, logger: .init(label: "test"))
        let tenant = "acme-\(UUID().uuidString.prefix(8))"
        var memoryIds: [String: UUID] = [:]
        for id in Self.hostileIds {
            let key = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: id))
            let m = Fixtures.memory("text of \(id.prefix(5))", owner: key.owner)
            _ = try await s.write(key, space: Fixtures.space) { _ in .append(LogBatch(operations: [.add(m)]), ()) }
            memoryIds[id] = m.id
        }
        let fresh = PartitionStore(blobs: b.store, options: o, logger: .init(label: "test"))
        let listed = try await fresh.partitions(tenant: tenant)
        #expect(Set(listed.map(\.owner.id)) == Set(Self.hostileIds))
        for (id, memoryId) in memoryIds {
            // A memory id leads back to its partition through the owner directory, hashed segment or not.
            let found = try await fresh.partitions(tenant: tenant, idHintHex: PartitionOwner.idHintHex(of: memoryId))
            let key = try #require(found.first { $0.owner.id == id })
            #expect(try await fresh.read(key).memory(memoryId) != nil)
            _ = try await fresh.compact(key)
            #expect(try await fresh.read(key).memories.count == 1)
        }
        // Erase one long-id partition entirely: every blob goes, its owner-id blob last.
        let long = PartitionKey(tenant: tenant, owner: PartitionOwner(kind: .user, id: String(repeating: "ж", count: 256)))
        _ = try await fresh.write(long, space: nil) { st in
            .append(LogBatch(operations: st.memories.map { .purge(id: $0.id, at: Date()) }), ())
        }
        _ = try await fresh.compact(long)
        #expect(try await b.store.listAll(prefix: long.prefix).isEmpty)
        #expect(!(try await fresh.partitions(tenant: tenant)).contains(long))
    }

    @Test func descriptionsCapIdsAndRedactedOnesCarryNone() {
        let id = String(repeating: "q", count: 5000)
        let key = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: id))
        #expect(key.description.count < 120)
        #expect(!key.redactedDescription.contains("qqqq"))
        #expect(key.redactedDescription.hasPrefix("tenant=t user#"))
        let sneaky = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: "a\u{202E}b\nc"))
        #expect(sneaky.description == #"tenant=t user=a\u{202e}b\u{a}c"#)
    }
}
