import Foundation
import Testing
import TestSupport
@testable import MemoryStorage

@Suite struct FileBlobStoreTests {
    @Test func putGetAndConditions() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        let t1 = try await s.put("a/b.json", data: Data("one".utf8), condition: .ifNoneMatchAny)
        let got = try await s.get("a/b.json")
        #expect(got.data == Data("one".utf8))
        #expect(got.etag == t1)
        await #expect(throws: BlobStoreError.alreadyExists(name: "a/b.json")) {
            try await s.put("a/b.json", data: Data("two".utf8), condition: .ifNoneMatchAny)
        }
        let t2 = try await s.put("a/b.json", data: Data("two".utf8), condition: .ifMatch(t1))
        #expect(t2 != t1)
        await #expect(throws: BlobStoreError.conditionNotMet(name: "a/b.json")) {
            try await s.put("a/b.json", data: Data("three".utf8), condition: .ifMatch(t1))
        }
        await #expect(throws: BlobStoreError.conditionNotMet(name: "missing")) {
            try await s.put("missing", data: Data(), condition: .ifMatch(t1))
        }
        let t3 = try await s.put("a/b.json", data: Data("four".utf8), condition: .none)
        #expect(t3 != t2)
        #expect(try await s.get("a/b.json").data == Data("four".utf8))
        #expect(try await s.properties("a/b.json").kind == .block)
        await #expect(throws: BlobStoreError.notFound(name: "nope")) { try await s.get("nope") }
        await #expect(throws: BlobStoreError.notFound(name: "nope")) { try await s.properties("nope") }
    }

    @Test func rangesAreClippedAndOutOfRangeIs416() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        try await s.put("r", data: Data("0123456789".utf8), condition: .none)
        #expect(try await s.get("r", range: 2..<5).data == Data("234".utf8))
        let clipped = try await s.get("r", range: 8..<100)
        #expect(clipped.data == Data("89".utf8))
        #expect(clipped.totalSize == 10)
        await #expect(throws: BlobStoreError.invalidRange(name: "r", size: 10)) { try await s.get("r", range: 10..<11) }
        try await s.put("empty", data: Data(), condition: .none)
        #expect(try await s.get("empty").data.isEmpty)
        await #expect(throws: BlobStoreError.invalidRange(name: "empty", size: 0)) { try await s.get("empty", range: 0..<1) }
    }

    @Test func appendBlobSemantics() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        let t0 = try await s.createAppendBlob("log", condition: .ifNoneMatchAny)
        await #expect(throws: BlobStoreError.alreadyExists(name: "log")) {
            try await s.createAppendBlob("log", condition: .ifNoneMatchAny)
        }
        let r1 = try await s.appendBlock("log", data: Data("abc".utf8), expectedPosition: 0)
        #expect(r1.offset == 0)
        #expect(r1.etag != t0)
        let r2 = try await s.appendBlock("log", data: Data("de".utf8), expectedPosition: nil)
        #expect(r2.offset == 3)
        await #expect(throws: BlobStoreError.appendPositionMismatch(name: "log", expected: 3, actualLength: 5)) {
            try await s.appendBlock("log", data: Data("x".utf8), expectedPosition: 3)
        }
        #expect(try await s.get("log").data == Data("abcde".utf8))
        await #expect(throws: BlobStoreError.notFound(name: "nolog")) {
            try await s.appendBlock("nolog", data: Data("x".utf8), expectedPosition: nil)
        }
        try await s.put("block", data: Data("b".utf8), condition: .none)
        await #expect(throws: BlobStoreError.wrongBlobType(name: "block")) {
            try await s.appendBlock("block", data: Data("x".utf8), expectedPosition: nil)
        }
        await #expect(throws: BlobStoreError.wrongBlobType(name: "block")) { try await s.seal("block") }
        let before = try await s.properties("log").etag
        try await s.seal("log")
        try await s.seal("log")
        let p = try await s.properties("log")
        #expect(p.isSealed)
        #expect(p.kind == .append)
        #expect(p.etag != before)
        await #expect(throws: BlobStoreError.sealed(name: "log")) {
            try await s.appendBlock("log", data: Data("x".utf8), expectedPosition: 5)
        }
    }

    @Test func stateSurvivesANewInstance() async throws {
        let (s, dir) = try TestBlobStores.fileStore(durable: true)
        try await s.createAppendBlob("p/log", condition: .ifNoneMatchAny)
        try await s.appendBlock("p/log", data: Data("hello".utf8), expectedPosition: 0)
        try await s.seal("p/log")
        let etag = try await s.properties("p/log").etag
        let again = FileBlobStore(root: dir)
        let p = try await again.properties("p/log")
        #expect(p.etag == etag)
        #expect(p.isSealed)
        #expect(p.size == 5)
    }

    @Test func tornAppendBytesAreInvisibleAndOverwritten() async throws {
        let (s, dir) = try TestBlobStores.fileStore()
        try await s.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await s.appendBlock("log", data: Data("good".utf8), expectedPosition: 0)
        // A writer crashed after writing its bytes but before publishing the new length.
        let h = try FileHandle(forWritingTo: dir.appendingPathComponent("log~"))
        try h.seekToEnd()
        try h.write(contentsOf: Data("TORN-GARBAGE".utf8))
        try h.close()
        #expect(try await s.get("log").data == Data("good".utf8))
        #expect(try await s.properties("log").size == 4)
        let r = try await s.appendBlock("log", data: Data("+next".utf8), expectedPosition: 4)
        #expect(r.offset == 4)
        #expect(try await s.get("log").data == Data("good+next".utf8))
    }

    @Test func listingIsOrderedPagedAndPrefixed() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        let names = ["a/b", "a/b/c", "a/b-2", "a/a/z", "a/c", "b/x", "a.txt"]
        for n in names { try await s.put(n, data: Data(n.utf8), condition: .none) }
        let all = try await s.listAll(prefix: "")
        #expect(all.map(\.name) == names.sorted())
        #expect(try await s.listAll(prefix: "a/b").map(\.name) == ["a/b", "a/b-2", "a/b/c"])
        #expect(try await s.listAll(prefix: "a/").map(\.name) == ["a/a/z", "a/b", "a/b-2", "a/b/c", "a/c"])
        #expect(try await s.listAll(prefix: "zzz").isEmpty)
        var marker: String? = nil
        var paged: [String] = []
        var pages = 0
        repeat {
            let page = try await s.list(prefix: "a", marker: marker, maxResults: 2)
            #expect(page.items.count <= 2)
            paged += page.items.map(\.name)
            marker = page.nextMarker
            pages += 1
        } while marker != nil
        #expect(paged == names.filter { $0.hasPrefix("a") }.sorted())
        #expect(pages == 3)
        #expect(all.first { $0.name == "a/b" }?.size == 3)
    }

    @Test func namesOnlyListingMatchesTheFullListingInByteOrder() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        // Upper case, digits, '-', '.', '_' and '/' sort by byte value: '-' < '.' < '/' < '0' < 'A' < '_' < 'a'.
        let names = ["x/a", "x/A", "x/_", "x/-", "x/.a", "x/0", "x/a/b", "x/a-b", "x/a.b", "x/ab", "y/z", "x.y"]
        for n in names { try await s.put(n, data: Data(n.utf8), condition: .none) }
        let byBytes = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for prefix in ["", "x", "x/", "x/a", "x/a/", "y/", "zzz"] {
            let full = try await s.listAll(prefix: prefix).map(\.name)
            #expect(try await s.listNames(prefix: prefix) == full, "prefix \(prefix)")
            #expect(full == byBytes.filter { $0.hasPrefix(prefix) }, "prefix \(prefix)")
        }
        await #expect(throws: BlobStoreError.invalidName("a b")) { try await s.listNames(prefix: "a b") }
    }

    @Test func deleteWithConditions() async throws {
        let (s, _) = try TestBlobStores.fileStore()
        let t = try await s.put("d", data: Data("x".utf8), condition: .none)
        await #expect(throws: BlobStoreError.conditionNotMet(name: "d")) {
            try await s.delete("d", condition: .ifMatch(ETag("0xWRONG")))
        }
        try await s.delete("d", condition: .ifMatch(t))
        await #expect(throws: BlobStoreError.notFound(name: "d")) { try await s.delete("d", condition: .none) }
        await #expect(throws: BlobStoreError.notFound(name: "d")) { try await s.get("d") }
        #expect(try await s.listAll(prefix: "").isEmpty)
    }

    @Test(arguments: ["", "a//b", "../x", "a/../b", "a/./b", "/a", "a/", "a b", "a~", "é", "a\\b", ".", "..", "a/..",
                      "./a", String(repeating: "x", count: FileBlobStore.maxSegmentBytes + 1),
                      "a/" + String(repeating: "x", count: FileBlobStore.maxSegmentBytes + 1) + "/b",
                      String(repeating: "abc/", count: 256) + "d"])
    func invalidNamesAreRejected(_ name: String) async throws {
        let (s, _) = try TestBlobStores.fileStore()
        await #expect(throws: BlobStoreError.invalidName(name)) { try await s.put(name, data: Data(), condition: .none) }
        await #expect(throws: BlobStoreError.invalidName(name)) { try await s.get(name) }
    }

    @Test(arguments: ["...", ".a", "a.", "a..b", "..a", String(repeating: "x", count: FileBlobStore.maxSegmentBytes),
                      String(repeating: "abc/", count: 255) + "defg"])
    func unusualButValidNamesAreTaken(_ name: String) async throws {
        let (s, _) = try TestBlobStores.fileStore()
        try await s.put(name, data: Data(name.utf8), condition: .none)
        #expect(try await s.get(name).data == Data(name.utf8))
    }

    /// The one-pass name check against the rule written out plainly, on random names over the characters that
    /// matter (letters, dots, slashes, a space), with long segments and long names among them.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func theNameCheckFollowsTheRule(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        func rule(_ name: String) -> Bool {
            guard !name.isEmpty, name.utf8.count <= 1024, name.utf8.allSatisfy(FileBlobStore.isNameByte) else { return false }
            return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { seg in
                !seg.isEmpty && seg != "." && seg != ".." && seg.utf8.count <= FileBlobStore.maxSegmentBytes
            }
        }
        let alphabet: [Character] = ["a", "Z", "0", ".", ".", "/", "/", "-", "_", " "]
        for _ in 0..<5_000 {
            let long = Int.random(in: 0..<10, using: &rng) == 0
            let count = long ? Int.random(in: 200..<1100, using: &rng) : Int.random(in: 0..<8, using: &rng)
            var name = String((0..<count).map { _ in alphabet.randomElement(using: &rng)! })
            if long, Bool.random(using: &rng) { name = name.replacingOccurrences(of: "/", with: "a") }
            let accepted = (try? FileBlobStore.validate(name)) != nil
            #expect(accepted == rule(name), "\(name.debugDescription)")
        }
    }

    @Test func concurrentAppendersWithPositionsAllLand() async throws {
        let (s, dir) = try TestBlobStores.fileStore()
        try await s.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<6 {
                group.addTask {
                    // Separate instances, as separate processes would have.
                    let mine = FileBlobStore(root: dir, durable: false)
                    for i in 0..<30 {
                        let rec = Data("[\(w):\(i)]".utf8)
                        while true {
                            let size = try await mine.properties("log").size
                            do {
                                try await mine.appendBlock("log", data: rec, expectedPosition: size)
                                break
                            } catch BlobStoreError.appendPositionMismatch {}
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let text = String(decoding: try await s.get("log").data, as: UTF8.self)
        for w in 0..<6 { for i in 0..<30 { #expect(text.components(separatedBy: "[\(w):\(i)]").count == 2) } }
        var total = 0
        for w in 0..<6 { for i in 0..<30 { total += "[\(w):\(i)]".utf8.count } }
        #expect(text.utf8.count == total)
    }
}
