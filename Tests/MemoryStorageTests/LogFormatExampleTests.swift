import Foundation
import Testing
@testable import MemoryStorage

/// The worked example of `docs/log-format.md` §7: the encoder must produce exactly the bytes the document shows
/// (they were produced from the document's grammar by an independent script), and the decoder must read them
/// back into the same batch. If the format changes, this test and the document change together.
@Suite struct LogFormatExampleTests {
    /// `docs/log-format.md` §7, the whole record.
    static let documentedHex =
        "414d4c528d000000196588a801000000000000400080000000000000010000000084d7c741000001000000016a1b2c3d4e5f4000"
        + "8000000000000002090000004c696b6573207465612000000065643064326136363866363138303563373337663933386536"
        + "346631393631640102000000753100000000000000000000000084d7c7410000000084d7c74100020000009a99193fcdcc4c3f"

    /// The batch the example describes: one add of "Likes tea" for user `u1`, a 2-dimensional embedding.
    static var documentedBatch: LogBatch {
        let at = Date(timeIntervalSinceReferenceDate: 800_000_000)  // 2026-05-09T06:13:20Z
        let memory = StoredMemory(
            id: UUID(uuidString: "6a1b2c3d-4e5f-4000-8000-000000000002")!, text: "Likes tea",
            hash: "ed0d2a668f61805c737f938e64f1961d", scopes: MemoryScopes(userId: "u1"),
            createdAt: at, updatedAt: at, embedding: [0.6, 0.8])
        return LogBatch(operations: [.add(memory)],
                        eventId: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!, writtenAt: at)
    }

    @Test func theEncoderWritesTheDocumentedBytes() throws {
        let frame = try LogCodec.encodeVerified(Self.documentedBatch)
        #expect(frame.map { String(format: "%02x", $0) }.joined() == Self.documentedHex)
        #expect(frame.count == 12 + 141)
    }

    @Test func theDocumentedBytesDecodeToTheBatch() throws {
        var bytes: [UInt8] = []
        var hex = Substring(Self.documentedHex)
        while !hex.isEmpty {
            bytes.append(try #require(UInt8(hex.prefix(2), radix: 16)))
            hex = hex.dropFirst(2)
        }
        let decoded = LogCodec.decode(Data(bytes), base: 0)
        #expect(decoded.damage == nil)
        #expect(decoded.unreadable.isEmpty)
        #expect(decoded.validEnd == bytes.count)
        let batch = try #require(decoded.batches.first?.batch)
        #expect(decoded.batches.count == 1)
        #expect(batch.operations == Self.documentedBatch.operations)
        #expect(batch.eventId == Self.documentedBatch.eventId)
        #expect(batch.writtenAt == Self.documentedBatch.writtenAt)
        #expect(batch.idempotencyKey == nil && batch.idempotentResponse == nil)
    }
}
