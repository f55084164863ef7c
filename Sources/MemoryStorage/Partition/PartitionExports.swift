import Foundation

/// Stored exports: the result of `POST /v1/exports/`, kept with the partition it was read from so that it is
/// erased with that partition's memories.
///
/// Layout: `{partition prefix}exports/{export id}.export`. The blob is `magic "AMEX" u32 · version u8 ·
/// u32 count n · n × 16-byte memory id · document bytes` (little-endian); the document's bytes are the layer
/// above's. Compaction deletes an export as soon as one memory it holds is no longer live (deleted or purged) —
/// in this partition, or, for an export of a fan-out read, in the partition its id's owner hint leads to — and
/// deleting a partition deletes its exports with every other blob under its prefix.
extension PartitionStore {
    static let exportMagic: UInt32 = 0x5845_4D41  // "AMEX"
    static let exportVersion: UInt8 = 1

    static func exportBlobName(_ key: PartitionKey, id: UUID) -> String {
        key.prefix + "exports/" + id.uuidString.lowercased() + ".export"
    }

    /// Stores an export of `key` holding the memories `memoryIds`. Export ids are fresh, so this never
    /// replaces one.
    public func putExport(_ key: PartitionKey, id: UUID, memoryIds: [UUID], document: Data) async throws {
        var w = BinaryWriter(capacity: 9 + memoryIds.count * 16 + document.count)
        w.u32(Self.exportMagic)
        w.u8(Self.exportVersion)
        w.u32(UInt32(memoryIds.count))
        for id in memoryIds { w.uuid(id) }
        w.bytes(document)
        let name = Self.exportBlobName(key, id: id)
        // The owner entry lets `export(_:id:)` callers find the partition from the id, even when it holds no
        // memory (then the export is an orphan blob, deleted by compaction after the grace period).
        try await ensureOwnerEntry(key)
        try await storage(key, name) {
            _ = try await self.blobs.put(name, data: Data(w.buffer), condition: .ifNoneMatchAny)
        }
    }

    /// The document of a stored export, or nil when `key` holds no export with this id (never made, or erased).
    public func export(_ key: PartitionKey, id: UUID) async throws -> Data? {
        let name = Self.exportBlobName(key, id: id)
        guard let content = try await blobIfPresent(key, name) else { return nil }
        return try Self.decodeExport(content.data, key: key, name: name).document
    }

    /// Deletes the exports of `key` that hold a memory `state` no longer has. Returns how many were deleted.
    func pruneExports(_ key: PartitionKey, live state: PartitionState) async throws -> Int {
        let prefix = key.prefix + "exports/"
        let items = try await storage(key, prefix) { try await self.blobs.listAll(prefix: prefix) }
        var deleted = 0
        for item in items {
            guard let content = try await blobIfPresent(key, item.name) else { continue }
            var stale = false
            do {
                for id in try Self.decodeExport(content.data, key: key, name: item.name).memoryIds
                where state.memory(id) == nil {
                    // An export made by a fan-out read also holds other partitions' memories: ask their partition.
                    guard await isLiveElsewhere(id, tenant: key.tenant, except: key) else {
                        stale = true
                        break
                    }
                }
            } catch {
                // An export this reader cannot parse could hold anything: erasure wins over keeping it.
                logger.warning("unreadable export deleted", metadata: ["partition": "\(key)", "blob": "\(item.name)"])
                stale = true
            }
            if stale, try await deleteBlob(key, item.name, condition: .none) { deleted += 1 }
        }
        return deleted
    }

    /// True when a partition other than `key` (found through the owner hint the memory id carries) holds `id`
    /// live. When that cannot be read, the export is kept (true) and the next compaction asks again.
    private func isLiveElsewhere(_ id: UUID, tenant: String, except key: PartitionKey) async -> Bool {
        do {
            for other in try await partitions(tenant: tenant, idHintHex: PartitionOwner.idHintHex(of: id)) where other != key {
                if try await current(other).state.memory(id) != nil { return true }
            }
            return false
        } catch {
            logger.warning("export kept: the partition of one of its memories could not be read; the next compaction checks again",
                           metadata: ["partition": "\(key)", "error": "\(error)"])
            return true
        }
    }

    private static func decodeExport(_ data: Data, key: PartitionKey, name: String) throws -> (memoryIds: [UUID], document: Data) {
        let bytes = [UInt8](data)
        var r = BinaryReader(bytes, range: 0..<bytes.count)
        do {
            guard try r.u32() == exportMagic, try r.u8() == exportVersion else {
                throw BinaryDecodingError(offset: 0, detail: "not an export blob of a known version")
            }
            let n = Int(try r.u32())
            guard n <= r.remaining / 16 else { throw BinaryDecodingError(offset: r.offset, detail: "id count too large") }
            var ids: [UUID] = []
            ids.reserveCapacity(n)
            for _ in 0..<n { ids.append(try r.uuid()) }
            return (ids, Data(bytes[r.offset...]))
        } catch let e as BinaryDecodingError {
            throw PartitionStoreError.corrupt(partition: key.description, blob: name, detail: "\(e)")
        }
    }
}

