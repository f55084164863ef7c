import Foundation

/// The `history` section of a snapshot, verified at open but decoded one memory at a time on demand.
///
/// A partition of 100k memories carries 100k histories that only the history endpoint and compaction read;
/// decoding them all into arrays and a dictionary was a fifth of the partition's open time. Opening instead
/// walks the section once without allocating (checking every length, flag and reference, so a malformed
/// section still fails the open) and records where each memory's entries start. Immutable, so shared freely.
/// Layout: docs/snapshot-format.md §6.
final class SnapshotHistorySection: Sendable {
    /// The section's bytes (a copy: the snapshot buffer itself is not kept alive).
    private let bytes: [UInt8]
    /// The snapshot's records (entries may refer to their ids, texts and creation dates): the array the
    /// partition state is loaded with, shared rather than copied into columns.
    private let records: [StoredMemory]
    /// Start of record `i`'s history in `bytes`, or -1.
    private let recordOffsets: [Int32]
    /// Record indexes in ascending id byte order (the snapshot's `idIndex` section, verified).
    private let idOrder: [UInt32]
    /// Start of the history of each memory that is not a record (deleted, history kept).
    private let otherOffsets: [UUID: Int]
    /// Number of memories with a history.
    let count: Int

    /// Verifies `section` against the snapshot's `records` and `idIndex` (`nil` when the section is absent,
    /// from older writers; then `idOrder` is built here).
    init(section: ArraySlice<UInt8>, records: [StoredMemory], idIndex: ArraySlice<UInt8>?) throws {
        let bytes = Array(section)
        let n = records.count
        self.bytes = bytes
        self.records = records
        idOrder = try Self.verifiedOrder(idIndex, records: records)

        var offsets = [Int32](repeating: -1, count: n)
        var others: [UUID: Int] = [:]
        var r = BinaryReader(bytes)
        let hn = try r.varintInt()
        guard hn <= r.remaining else { throw Self.malformed("history count \(hn) exceeds the section") }
        for _ in 0..<hn {
            let idx = try r.varintInt()
            let start: Int
            if idx == 0 {
                let id = try r.uuid()
                start = r.offset
                guard others.updateValue(start, forKey: id) == nil else { throw Self.malformed("history listed twice for \(id)") }
            } else {
                guard idx <= n else { throw Self.malformed("history refers to record \(idx - 1) of \(n)") }
                start = r.offset
                guard offsets[idx - 1] < 0 else { throw Self.malformed("history listed twice for record \(idx - 1)") }
                offsets[idx - 1] = Int32(start)
            }
            let entries = try r.varintInt()
            guard entries <= r.remaining else { throw Self.malformed("history entry count too large") }
            for _ in 0..<entries {
                let event = try r.u8()
                let flags = try r.u8()
                guard (1...3).contains(event) else { throw Self.malformed("unknown history event \(event)") }
                // Texts are decoded (UTF-8 checked) and dropped: only updates and deletions carry them.
                if flags & 0x01 != 0 { _ = try r.vstring() }
                if flags & 0x02 != 0 { _ = try r.vstring() }
                if flags & 0x10 != 0 {
                    guard idx != 0 else { throw Self.malformed("history entry refers to a missing creation date") }
                } else {
                    try r.skip(8)
                }
                try r.skip(16)
            }
        }
        guard r.isAtEnd else { throw Self.malformed("trailing bytes after the last history") }
        recordOffsets = offsets
        otherOffsets = others
        count = hn
    }

    /// The history of `id`, or `nil` when the snapshot has none for it.
    func entries(_ id: UUID) -> [HistoryEntry]? {
        if let start = otherOffsets[id] { return decode(id: id, record: nil, at: start) }
        guard let record = recordIndex(id), recordOffsets[record] >= 0 else { return nil }
        return decode(id: id, record: record, at: Int(recordOffsets[record]))
    }

    /// True when the snapshot has a history for `id`.
    func contains(_ id: UUID) -> Bool {
        if otherOffsets[id] != nil { return true }
        guard let record = recordIndex(id) else { return false }
        return recordOffsets[record] >= 0
    }

    /// Every history in the section (compaction and tests).
    func all() -> [UUID: [HistoryEntry]] {
        var out = [UUID: [HistoryEntry]](minimumCapacity: count)
        for record in recordOffsets.indices where recordOffsets[record] >= 0 {
            out[records[record].id] = decode(id: records[record].id, record: record, at: Int(recordOffsets[record]))
        }
        for (id, start) in otherOffsets { out[id] = decode(id: id, record: nil, at: start) }
        return out
    }

    // MARK: Decoding (the walk in `init` has checked every read below)

    private func decode(id: UUID, record: Int?, at start: Int) -> [HistoryEntry] {
        var r = BinaryReader(bytes, range: start..<bytes.count)
        var entries: [HistoryEntry] = []
        do {
            let count = try r.varintInt()
            entries.reserveCapacity(count)
            var previousNew: String? = nil
            for _ in 0..<count {
                let ev = try r.u8()
                let flags = try r.u8()
                let event: HistoryEntry.Event = ev == 1 ? .add : ev == 2 ? .update : .delete
                let old: String? = flags & 0x01 != 0 ? try r.vstring() : flags & 0x08 != 0 ? previousNew : nil
                let new: String? = flags & 0x02 != 0 ? try r.vstring() : flags & 0x04 != 0 ? record.map { records[$0].text } : nil
                let at: Date = flags & 0x10 != 0 ? records[record!].createdAt : try r.date()
                let eventId = try r.uuid()
                entries.append(HistoryEntry(memoryId: id, event: event, oldText: old, newText: new, at: at, eventId: eventId))
                previousNew = new
            }
            return entries
        } catch {
            // Unreachable: `init` performed every one of these reads on the same immutable bytes.
            assertionFailure("snapshot history verified at open no longer decodes: \(error)")
            return entries
        }
    }

    private func recordIndex(_ id: UUID) -> Int? {
        var lo = 0, hi = idOrder.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let candidate = records[Int(idOrder[mid])].id
            if SnapshotCodec.uuidPrecedes(candidate, id) { lo = mid + 1 } else { hi = mid }
        }
        guard lo < idOrder.count, records[Int(idOrder[lo])].id == id else { return nil }
        return Int(idOrder[lo])
    }

    /// The record indexes in id order: the stored `idIndex` after checking it is a permutation in ascending id
    /// order, or computed when the snapshot has none.
    private static func verifiedOrder(_ section: ArraySlice<UInt8>?, records: [StoredMemory]) throws -> [UInt32] {
        guard let section else {
            return records.indices.sorted { SnapshotCodec.uuidPrecedes(records[$0].id, records[$1].id) }.map { UInt32($0) }
        }
        guard section.count == records.count * 4 else {
            throw malformed("id index has \(section.count) bytes for \(records.count) records")
        }
        var order = [UInt32](repeating: 0, count: records.count)
        var seen = [Bool](repeating: false, count: records.count)
        section.withUnsafeBytes { raw in
            for i in order.indices { order[i] = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
        }
        for (k, record) in order.enumerated() {
            guard Int(record) < records.count, !seen[Int(record)] else { throw malformed("id index is not a permutation of the records") }
            seen[Int(record)] = true
            if k > 0, !SnapshotCodec.uuidPrecedes(records[Int(order[k - 1])].id, records[Int(record)].id) {
                throw malformed("id index is not in ascending id order at position \(k)")
            }
        }
        return order
    }

    private static func malformed(_ detail: String) -> SnapshotFormatError {
        SnapshotFormatError(detail: "malformed history section: \(detail)")
    }
}
