import Foundation

/// The root of a partition: `{prefix}manifest.json`, replaced only with `If-Match` (compare-and-swap).
///
/// Names the snapshot (if any) and the log generations to replay after it, oldest first; the last one is the
/// active segment writers append to. See docs/storage-engine.md.
struct Manifest: Codable, Equatable, Sendable {
    struct Partition: Codable, Equatable, Sendable {
        var tenant: String
        var kind: OwnerKind
        var id: String
    }

    struct Snapshot: Codable, Equatable, Sendable {
        /// Blob name relative to the partition prefix, e.g. `snap/00000003-1a2b3c4d.snap`.
        var name: String
        /// Logs of generations below this are folded into the snapshot.
        var generation: UInt64
        /// ``PartitionState/revision`` the snapshot holds.
        var revision: UInt64
        var bytes: Int
        var liveMemories: Int
    }

    struct Segment: Codable, Equatable, Sendable {
        var generation: UInt64
        /// Blob name relative to the partition prefix, e.g. `log/00000003-5e6f7a8b.log`.
        var name: String
    }

    static let currentFormat = 1

    var format: Int
    var partition: Partition
    var snapshot: Snapshot?
    var logs: [Segment]
    var embeddingSpace: EmbeddingSpace?
    /// The generation the next new segment or snapshot gets.
    var nextGeneration: UInt64
    /// Bumped on every manifest change (diagnostics).
    var version: UInt64
    var updatedAt: Date

    var active: Segment? { logs.last }

    static func blobName(_ key: PartitionKey) -> String { key.prefix + "manifest.json" }

    static func segmentName(generation: UInt64) -> String {
        "log/" + paddedGeneration(generation) + "-" + randomTag() + ".log"
    }

    static func snapshotName(generation: UInt64) -> String {
        "snap/" + paddedGeneration(generation) + "-" + randomTag() + ".snap"
    }

    static func paddedGeneration(_ g: UInt64) -> String {
        let s = String(g)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func randomTag() -> String {
        let s = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// The generation encoded in a relative blob name (`log/00000003-….log` → 3).
    static func generation(ofRelativeName name: String) -> UInt64? {
        guard let slash = name.firstIndex(of: "/") else { return nil }
        let rest = name[name.index(after: slash)...]
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        return UInt64(rest[..<dash])
    }

    static func new(_ key: PartitionKey, space: EmbeddingSpace?) -> Manifest {
        Manifest(format: currentFormat,
                 partition: Partition(tenant: key.tenant, kind: key.owner.kind, id: key.owner.id),
                 snapshot: nil, logs: [Segment(generation: 1, name: segmentName(generation: 1))],
                 embeddingSpace: space, nextGeneration: 2, version: 1, updatedAt: Date())
    }

    func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        // Encoding plain Codable structs cannot fail.
        return (try? e.encode(self)) ?? Data()
    }

    static func decode(_ data: Data, key: PartitionKey) throws -> Manifest {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        let m: Manifest
        do { m = try d.decode(Manifest.self, from: data) } catch {
            throw PartitionStoreError.corrupt(partition: key.description, blob: blobName(key),
                                              detail: "manifest is not valid JSON: \(error)")
        }
        guard m.format == currentFormat else {
            throw PartitionStoreError.corrupt(partition: key.description, blob: blobName(key),
                                              detail: "manifest format \(m.format) is not supported (expected \(currentFormat))")
        }
        guard !m.logs.isEmpty else {
            throw PartitionStoreError.corrupt(partition: key.description, blob: blobName(key),
                                              detail: "manifest lists no log segment")
        }
        return m
    }
}

/// The owner directory: one tiny blob per partition, `t/{tenant}/d/{idHintHex}/{kind}/{id segment}`, so that a
/// memory id (which carries its owner's hint) leads to its partition with one listing. The blob holds the
/// owner id's UTF-8 (needed where the segment is a hash, ``BlobNameEscaping/segment(_:)``).
enum OwnerDirectory {
    static func prefix(tenant: String, idHintHex: String) -> String {
        "t/\(BlobNameEscaping.escape(tenant))/d/\(idHintHex)/"
    }

    static func entryName(_ key: PartitionKey) -> String {
        prefix(tenant: key.tenant, idHintHex: key.owner.idHintHex) + key.owner.kind.rawValue + "/"
            + BlobNameEscaping.segment(key.owner.id)
    }

    /// What an entry name (`…/d/{hint}/{kind}/{segment}`) says: the kind, and the id when the segment is an
    /// escape (nil when it is a hash: read the entry's content).
    static func parse(entry name: String) -> (kind: OwnerKind, id: String?)? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, let kind = OwnerKind(rawValue: String(parts[4])) else { return nil }
        if BlobNameEscaping.isHashedSegment(parts[5]) { return (kind, nil) }
        guard let id = BlobNameEscaping.unescape(String(parts[5])) else { return nil }
        return (kind, id)
    }
}

/// `{partition prefix}owner-id`: the owner id's UTF-8, kept in a partition whose id segment is a hash, so that a
/// listing of blobs leads back to the id. Written before any other blob of the partition, deleted after all.
enum OwnerIdBlob {
    static func name(_ key: PartitionKey) -> String { key.prefix + "owner-id" }
}
