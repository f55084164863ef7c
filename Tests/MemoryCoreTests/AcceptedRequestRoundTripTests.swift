import Foundation
import JSONModel
import Logging
import Testing
import MemoryStorage
import ModelClients
import TestSupport
@testable import MemoryCore

/// Property: whatever the add and update parsers accept, storage reads back — through the log (a fresh process)
/// and through a compacted snapshot — equal to what was written. Random bodies include every Unicode plane,
/// control characters, extreme numbers, deep and wide metadata up to the record limit, and scope ids up to 256
/// characters of any script (their partition names must also be valid on the file backend).
@Suite struct AcceptedRequestRoundTripTests {
    static let alphabet: [Unicode.Scalar] = {
        var scalars: [Unicode.Scalar] = []
        for v in [0x00, 0x01, 0x09, 0x0A, 0x1F, 0x20, 0x22, 0x2E, 0x2F, 0x41, 0x5C, 0x5F, 0x61, 0x7E, 0x7F, 0x80, 0xA0, 0xE9,
                  0x436, 0x5D0, 0x627, 0x200B, 0x200D, 0x202E, 0x4E2D, 0xFEFF, 0xFFFD, 0x1F984, 0x1F469, 0x10FFFD] {
            scalars.append(Unicode.Scalar(UInt32(v))!)
        }
        return scalars
    }()

    static func string(_ rng: inout SeededGenerator, maxLength: Int) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
        return String(s)
    }

    static func number(_ rng: inout SeededGenerator) -> Double {
        [0, -0.0, 1, -1, 1e308, -1e308, 5e-324, 0.1, 9.007199254740993e15, Double(Int32.max),
         Double.random(in: -1e6...1e6, using: &rng)].randomElement(using: &rng)!
    }

    static func json(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
        if depth <= 1 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .number(number(&rng))
            default: return .string(string(&rng, maxLength: 40))
            }
        }
        // One child carries the depth on; its siblings stay shallow, so a deep value stays small.
        let deep = json(&rng, depth: depth - 1)
        let siblings = (0..<Int.random(in: 0...2, using: &rng)).map { _ in json(&rng, depth: min(2, depth - 1)) }
        if Bool.random(using: &rng) { return .array([deep] + siblings) }
        var o: [String: JSONValue] = [string(&rng, maxLength: 12): deep]
        for s in siblings { o[string(&rng, maxLength: 12)] = s }
        return .object(o)
    }

    /// A random add body; some are invalid on purpose (the parser must refuse them, and nothing is written).
    static func addBody(_ rng: inout SeededGenerator) -> JSONValue {
        let depth = [1, 2, 5, 40, RecordLimits.maxJSONNesting, RecordLimits.maxJSONNesting + 1].randomElement(using: &rng)!
        var metadata: JSONValue = json(&rng, depth: depth)
        if case .object = metadata {} else { metadata = .object(["m": metadata]) }
        // Scope ids: mostly acceptable (any script, up to the 256-character limit), some too long or with controls.
        var id = String(String.UnicodeScalarView(string(&rng, maxLength: 256).unicodeScalars
            .filter { $0.properties.generalCategory != .control }))
        if Int.random(in: 0..<8, using: &rng) == 0 { id = String(repeating: "x", count: 257) }
        if Int.random(in: 0..<8, using: &rng) == 0 { id += "\u{0007}" }
        return .object([
            "messages": .array((0..<Int.random(in: 1...4, using: &rng)).map { _ in
                .object(["role": .string(["user", "assistant"].randomElement(using: &rng)!),
                         "content": .string(string(&rng, maxLength: 200))])
            }),
            "user_id": .string(id.isEmpty ? "u" : id),
            "agent_id": Bool.random(using: &rng) ? .string("agent-" + String(Int.random(in: 0..<5, using: &rng))) : .null,
            "metadata": metadata,
            "infer": .bool(false),
        ])
    }

    @Test func everyAcceptedAddReadsBackEqualFromTheLogAndFromASnapshot() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let blobs = FileBlobStore(root: root, durable: false)
        var options = PartitionStoreOptions()
        options.garbageGracePeriod = 0
        let logger = Logger(label: "test")
        let service = MemoryService(store: PartitionStore(blobs: blobs, options: options, logger: logger),
                                    embedder: HashingEmbedder(dimension: 32), logger: logger)
        var rng = SeededGenerator(seed: 0x5EED_11)
        var accepted = 0, refused = 0
        var written: [UUID: StoredMemory] = [:]
        for _ in 0..<150 {
            let body = Self.addBody(&rng)
            let request: AddRequest
            do { request = try AddRequest(json: body) } catch {
                refused += 1
                continue
            }
            let answer = try await service.add(request, RequestContext(tenant: "acme"))
            let ids = answer.events.map(\.id)
            let key = PartitionKey(tenant: "acme", owner: try #require(request.scopes.owner))
            let state = try await service.store.read(key)
            for id in ids { written[id] = try #require(state.memory(id)) }
            accepted += 1
        }
        #expect(accepted > 60 && refused > 10, "the generator must exercise both sides: \(accepted) accepted, \(refused) refused")

        // A fresh process reads every memory back from the log, equal.
        let fresh = PartitionStore(blobs: blobs, options: options, logger: logger)
        let keys = try await fresh.partitions(tenant: "acme")
        var readBack: [UUID: StoredMemory] = [:]
        for key in keys { for m in try await fresh.read(key).memories { readBack[m.id] = m } }
        #expect(readBack == written)

        // And from the snapshots compaction writes (vectors are stored as int8 codes there: compare the rest).
        for key in keys { _ = try await fresh.compact(key) }
        let afterCompaction = PartitionStore(blobs: blobs, options: options, logger: logger)
        var fromSnapshots: [UUID: StoredMemory] = [:]
        for key in try await afterCompaction.partitions(tenant: "acme") {
            for m in try await afterCompaction.read(key).memories { fromSnapshots[m.id] = m }
        }
        #expect(Set(fromSnapshots.keys) == Set(written.keys))
        for (id, m) in written {
            var expected = m
            expected.embedding = fromSnapshots[id]?.embedding ?? []
            #expect(fromSnapshots[id] == expected)
        }
    }
}
