import Foundation

/// An opaque version tag of a blob, as Azure returns it in the `ETag` header.
///
/// Compared without surrounding quotes, so `"0x8DC"` and `0x8DC` are the same tag (the XML listing omits quotes
/// while the header carries them).
public struct ETag: Hashable, Sendable, CustomStringConvertible {
    /// The tag without quotes.
    public let value: String

    public init(_ value: String) {
        var v = value
        if v.hasPrefix("W/") { v.removeFirst(2) }
        if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
        self.value = v
    }

    /// The tag as sent in `If-Match` and `ETag` headers: quoted.
    public var quoted: String { "\"\(value)\"" }
    public var description: String { quoted }
}

/// A precondition on a write or delete, mirroring Azure's conditional headers.
public enum WriteCondition: Sendable, Equatable {
    /// Write unconditionally (create or overwrite).
    case none
    /// `If-Match: <etag>`: only if the blob exists with exactly this version.
    case ifMatch(ETag)
    /// `If-None-Match: *`: only if no blob of that name exists.
    case ifNoneMatchAny
}

/// The kind of a blob, as in Azure's `x-ms-blob-type`.
public enum BlobKind: String, Sendable, Equatable {
    case block = "BlockBlob"
    case append = "AppendBlob"
}

/// What a properties call (HEAD) returns.
public struct BlobProperties: Sendable, Equatable {
    public var name: String
    public var size: Int
    public var etag: ETag
    public var kind: BlobKind
    public var isSealed: Bool
    public var lastModified: Date

    public init(name: String, size: Int, etag: ETag, kind: BlobKind, isSealed: Bool, lastModified: Date) {
        self.name = name
        self.size = size
        self.etag = etag
        self.kind = kind
        self.isSealed = isSealed
        self.lastModified = lastModified
    }
}

/// The bytes of a blob (or of a range of it) with the version they were read at.
public struct BlobContent: Sendable {
    public var data: Data
    /// The blob's version when the bytes were read.
    public var etag: ETag
    /// The blob's full size, whatever range was asked for.
    public var totalSize: Int

    public init(data: Data, etag: ETag, totalSize: Int) {
        self.data = data
        self.etag = etag
        self.totalSize = totalSize
    }
}

/// Where an append landed.
public struct AppendResult: Sendable, Equatable {
    /// Byte offset at which the appended block starts (`x-ms-blob-append-offset`).
    public var offset: Int
    /// The blob's version after the append.
    public var etag: ETag

    public init(offset: Int, etag: ETag) {
        self.offset = offset
        self.etag = etag
    }
}

/// One page of a listing, in lexicographic name order.
public struct BlobListPage: Sendable {
    public var items: [BlobProperties]
    /// Pass back to get the next page; `nil` when the listing is complete.
    public var nextMarker: String?

    public init(items: [BlobProperties], nextMarker: String?) {
        self.items = items
        self.nextMarker = nextMarker
    }
}

/// Durable named byte objects with the semantics of Azure Blob Storage (block and append blobs, ETags,
/// conditional writes, append-position conditions, seal).
///
/// The storage engine is written against this protocol only, so the local folder backend and Azure behave the
/// same. Names are `/`-separated paths of `[A-Za-z0-9._/-]`. Every method throws ``BlobStoreError``.
public protocol BlobStore: Sendable {
    /// Reads a whole blob, or `range` of it (clipped at the end; a start at or past the end throws
    /// ``BlobStoreError/invalidRange``).
    func get(_ name: String, range: Range<Int>?) async throws -> BlobContent

    /// Size, version, kind and seal state of a blob.
    func properties(_ name: String) async throws -> BlobProperties

    /// Creates or replaces a block blob with `data`, atomically, if `condition` holds.
    @discardableResult
    func put(_ name: String, data: Data, condition: WriteCondition) async throws -> ETag

    /// Creates an empty append blob if `condition` holds. With `.none` an existing blob is replaced by an
    /// empty one, as in Azure; the engine always passes `.ifNoneMatchAny`.
    @discardableResult
    func createAppendBlob(_ name: String, condition: WriteCondition) async throws -> ETag

    /// Appends `data` as one block, all or nothing. With `expectedPosition`, appends only if the blob's current
    /// length equals it (`x-ms-blob-condition-appendpos`), else throws ``BlobStoreError/appendPositionMismatch``.
    @discardableResult
    func appendBlock(_ name: String, data: Data, expectedPosition: Int?) async throws -> AppendResult

    /// Makes an append blob read-only. Sealing a sealed blob succeeds.
    func seal(_ name: String) async throws

    /// Lists blobs whose names start with `prefix`, at most `maxResults` per page, in name order.
    func list(prefix: String, marker: String?, maxResults: Int) async throws -> BlobListPage

    /// The names of every blob under `prefix`, in name order (all pages): what a directory listing needs. A
    /// store that can list names more cheaply than ``list(prefix:marker:maxResults:)`` lists properties
    /// implements it (the folder store then opens no file); the others get the default, built on `list`.
    func listNames(prefix: String) async throws -> [String]

    /// Deletes a blob if `condition` holds (`.none` or `.ifMatch`).
    func delete(_ name: String, condition: WriteCondition) async throws

    /// The largest block one ``appendBlock(_:data:expectedPosition:)`` accepts (Azure: 4 MiB at the API
    /// version this engine speaks). The engine refuses larger batches up front instead of failing mid-write.
    var maxAppendBlockBytes: Int { get }
}

extension BlobStore {
    public var maxAppendBlockBytes: Int { Int.max }

    /// Reads a whole blob.
    public func get(_ name: String) async throws -> BlobContent {
        try await get(name, range: nil)
    }

    /// Lists every blob under `prefix`, following markers to the end.
    public func listAll(prefix: String, pageSize: Int = 5000) async throws -> [BlobProperties] {
        var result: [BlobProperties] = []
        var marker: String? = nil
        repeat {
            let page = try await list(prefix: prefix, marker: marker, maxResults: pageSize)
            result.append(contentsOf: page.items)
            marker = page.nextMarker
        } while marker != nil
        return result
    }

    public func listNames(prefix: String) async throws -> [String] {
        try await listAll(prefix: prefix).map(\.name)
    }
}
