import Foundation
import Testing
@testable import MemoryStorage

/// `AzureBlobStore` against the Blob-protocol test server over real HTTP on loopback, with SharedKey auth
/// (the server recomputes every signature): every operation and every error mapping.
@Suite struct AzureBlobStoreTests {
    let server: AzureTestServer
    let store: AzureBlobStore

    init() throws {
        server = try AzureTestServer()
        store = try server.store()
    }

    @Test func putGetAndPropertiesRoundTripBinaryData() async throws {
        let data = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let etag = try await store.put("t/acme/p/user/alice/snap/0001.snap", data: data, condition: .none)
        let content = try await store.get("t/acme/p/user/alice/snap/0001.snap")
        #expect(content.data == data)
        #expect(content.etag == etag)
        #expect(content.totalSize == data.count)
        let props = try await store.properties("t/acme/p/user/alice/snap/0001.snap")
        #expect(props == BlobProperties(name: "t/acme/p/user/alice/snap/0001.snap", size: data.count, etag: etag,
                                        kind: .block, isSealed: false, lastModified: props.lastModified))
        #expect(abs(props.lastModified.timeIntervalSinceNow) < 3600)
        let empty = try await store.put("empty", data: Data(), condition: .none)
        #expect(try await store.get("empty").data.isEmpty)
        #expect(try await store.properties("empty").etag == empty)
    }

    @Test func conditionalPuts() async throws {
        let first = try await store.put("manifest.json", data: Data("v1".utf8), condition: .ifNoneMatchAny)
        await #expect(throws: BlobStoreError.alreadyExists(name: "manifest.json")) {
            try await store.put("manifest.json", data: Data("again".utf8), condition: .ifNoneMatchAny)
        }
        let second = try await store.put("manifest.json", data: Data("v2".utf8), condition: .ifMatch(first))
        #expect(second != first)
        await #expect(throws: BlobStoreError.conditionNotMet(name: "manifest.json")) {
            try await store.put("manifest.json", data: Data("v3".utf8), condition: .ifMatch(first))
        }
        await #expect(throws: BlobStoreError.conditionNotMet(name: "missing.json")) {
            try await store.put("missing.json", data: Data("x".utf8), condition: .ifMatch(first))
        }
        #expect(try await store.get("manifest.json").data == Data("v2".utf8))
        let replaced = try await store.put("manifest.json", data: Data("v4".utf8), condition: .none)
        #expect(try await store.get("manifest.json").etag == replaced)
    }

    @Test func missingBlobsAreNotFoundOnGetAndHead() async throws {
        try await store.put("present", data: Data("x".utf8), condition: .none)  // creates the container
        await #expect(throws: BlobStoreError.notFound(name: "absent")) { try await store.get("absent") }
        await #expect(throws: BlobStoreError.notFound(name: "absent")) { try await store.properties("absent") }
        await #expect(throws: BlobStoreError.notFound(name: "absent")) { try await store.seal("absent") }
        await #expect(throws: BlobStoreError.notFound(name: "absent")) {
            try await store.appendBlock("absent", data: Data("x".utf8), expectedPosition: 0)
        }
    }

    @Test func rangedGetsClipAndRejectStartsAtOrPastTheEnd() async throws {
        let data = Data("0123456789".utf8)
        let etag = try await store.put("r", data: data, condition: .none)
        let head = try await store.get("r", range: 0..<4)
        #expect(head.data == Data("0123".utf8))
        #expect(head.totalSize == 10)
        #expect(head.etag == etag)
        #expect(try await store.get("r", range: 6..<100).data == Data("6789".utf8))
        #expect(try await store.get("r", range: 9..<10).data == Data("9".utf8))
        await #expect(throws: BlobStoreError.invalidRange(name: "r", size: 10)) { try await store.get("r", range: 3..<3) }
        await #expect(throws: BlobStoreError.invalidRange(name: "r", size: 10)) { try await store.get("r", range: 10..<20) }
        await #expect(throws: BlobStoreError.invalidRange(name: "r", size: 10)) { try await store.get("r", range: 11..<12) }
        try await store.put("zero", data: Data(), condition: .none)
        await #expect(throws: BlobStoreError.invalidRange(name: "zero", size: 0)) { try await store.get("zero", range: 0..<1) }
    }

    @Test func appendBlobsWithPositionConditions() async throws {
        let name = "t/acme/p/user/alice/log/0001.log"
        let created = try await store.createAppendBlob(name, condition: .ifNoneMatchAny)
        await #expect(throws: BlobStoreError.alreadyExists(name: name)) {
            try await store.createAppendBlob(name, condition: .ifNoneMatchAny)
        }
        let a = try await store.appendBlock(name, data: Data("hello".utf8), expectedPosition: 0)
        #expect(a.offset == 0)
        #expect(a.etag != created)
        let b = try await store.appendBlock(name, data: Data(" world".utf8), expectedPosition: 5)
        #expect(b.offset == 5)
        await #expect(throws: BlobStoreError.appendPositionMismatch(name: name, expected: 5, actualLength: 11)) {
            try await store.appendBlock(name, data: Data("late".utf8), expectedPosition: 5)
        }
        let nothing = try await store.appendBlock(name, data: Data(), expectedPosition: 11)
        #expect(nothing == AppendResult(offset: 11, etag: b.etag))
        let c = try await store.appendBlock(name, data: Data("!".utf8), expectedPosition: nil)
        #expect(c.offset == 11)
        await #expect(throws: BlobStoreError.conditionNotMet(name: name)) {
            try await store.appendBlock(name, data: Data("too long".utf8), expectedPosition: 12, maxSize: 15)
        }
        #expect(try await store.get(name).data == Data("hello world!".utf8))
        let props = try await store.properties(name)
        #expect(props.kind == .append)
        #expect(props.size == 12)
        #expect(props.etag == c.etag)
        #expect(!props.isSealed)
        // Create with .none replaces the blob by an empty one, as Azure does.
        try await store.createAppendBlob(name, condition: .none)
        #expect(try await store.properties(name).size == 0)
    }

    @Test func blocksOverTheAppendLimitAreRefusedBeforeSending() async throws {
        try await store.createAppendBlob("big", condition: .ifNoneMatchAny)
        let limit = AzureBlobStore.maxAppendBlockSize
        let full = try await store.appendBlock("big", data: Data(count: limit), expectedPosition: 0)
        #expect(full.offset == 0)
        do {
            try await store.appendBlock("big", data: Data(count: limit + 1), expectedPosition: limit)
            Issue.record("an oversized block was accepted")
        } catch BlobStoreError.unavailable(let name, let message) {
            #expect(name == "big")
            #expect(message.contains("append limit"), "\(message)")
        }
        #expect(try await server.requests().filter { $0.op == "appendblock" }.count == 1)
    }

    @Test func sealMakesAnAppendBlobReadOnly() async throws {
        try await store.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await store.appendBlock("log", data: Data("abc".utf8), expectedPosition: 0)
        try await store.seal("log")
        #expect(try await store.properties("log").isSealed)
        await #expect(throws: BlobStoreError.sealed(name: "log")) {
            try await store.appendBlock("log", data: Data("def".utf8), expectedPosition: 3)
        }
        try await store.seal("log")  // sealing again succeeds
        #expect(try await store.get("log").data == Data("abc".utf8))
    }

    @Test func blockAndAppendBlobsDoNotMix() async throws {
        try await store.put("block", data: Data("x".utf8), condition: .none)
        await #expect(throws: BlobStoreError.wrongBlobType(name: "block")) {
            try await store.appendBlock("block", data: Data("y".utf8), expectedPosition: 1)
        }
        await #expect(throws: BlobStoreError.wrongBlobType(name: "block")) { try await store.seal("block") }
    }

    @Test func pagedListingInNameOrderWithPrefixes() async throws {
        let names = (0..<7).map { "t/acme/p/user/bob/log/\(String(format: "%04d", $0)).log" }
        for name in names.reversed() { try await store.put(name, data: Data(name.utf8), condition: .none) }
        try await store.createAppendBlob("t/acme/p/user/bob-other/log/0000.log", condition: .none)
        try await store.put("t/zeta/x", data: Data(), condition: .none)
        var pages: [[String]] = []
        var marker: String? = nil
        repeat {
            let page = try await store.list(prefix: "t/acme/p/user/bob/", marker: marker, maxResults: 3)
            pages.append(page.items.map(\.name))
            marker = page.nextMarker
        } while marker != nil
        #expect(pages == [Array(names[0..<3]), Array(names[3..<6]), [names[6]]])
        let all = try await store.listAll(prefix: "t/", pageSize: 2)
        #expect(all.map(\.name) == (names + ["t/acme/p/user/bob-other/log/0000.log", "t/zeta/x"]).sorted())
        #expect(all.first?.name == "t/acme/p/user/bob-other/log/0000.log", "'-' sorts before '/'")
        #expect(try await store.listNames(prefix: "t/") == all.map(\.name))
        let first = try #require(all.first(where: { $0.name == names[0] }))
        #expect(first.size == names[0].utf8.count)
        #expect(first.kind == .block)
        #expect(first.etag == (try await store.properties(first.name)).etag)
        #expect(all.first(where: { $0.name.hasSuffix("bob-other/log/0000.log") })?.kind == .append)
        #expect(try await store.list(prefix: "nothing/", marker: nil, maxResults: 10).items.isEmpty)
    }

    @Test func listingAMissingContainerIsEmpty() async throws {
        let page = try await store.list(prefix: "", marker: nil, maxResults: 100)
        #expect(page.items.isEmpty)
        #expect(page.nextMarker == nil)
    }

    @Test func deleteWithAndWithoutConditions() async throws {
        let old = try await store.put("gone", data: Data("1".utf8), condition: .none)
        let current = try await store.put("gone", data: Data("2".utf8), condition: .none)
        await #expect(throws: BlobStoreError.conditionNotMet(name: "gone")) {
            try await store.delete("gone", condition: .ifMatch(old))
        }
        try await store.delete("gone", condition: .ifMatch(current))
        await #expect(throws: BlobStoreError.notFound(name: "gone")) { try await store.get("gone") }
        await #expect(throws: BlobStoreError.notFound(name: "gone")) { try await store.delete("gone", condition: .none) }
    }

    @Test func theContainerIsCreatedOnceOnFirstWrite() async throws {
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask { try await store.put("c/\(i)", data: Data([UInt8(i)]), condition: .none) }
            }
            try await group.waitForAll()
        }
        #expect(try await store.listAll(prefix: "c/").count == 8)
        let log = try await server.requests()
        #expect(log.filter { $0.op == "createcontainer" }.count == 1)
    }

    @Test func invalidNamesAreRejectedWithoutARequest() async throws {
        for bad in ["", "/lead", "trail/", "a//b", "a/../b", "sp ace", "q?x", "ü"] {
            await #expect(throws: BlobStoreError.invalidName(bad)) { try await store.get(bad) }
        }
        #expect(try await server.requests().isEmpty)
    }

    @Test func aWrongAccountKeyIsPermissionDenied() async throws {
        let bad = try server.store(setting: server.connectionString(key: AzureTestServer.wrongKey))
        do {
            try await bad.put("x", data: Data("x".utf8), condition: .none)
            Issue.record("a wrong key was accepted")
        } catch BlobStoreError.permissionDenied(let name, let code, let message) {
            #expect(name == "x")
            #expect(code == "AuthenticationFailed")
            #expect(message.contains("account key"))
        }
    }
}
