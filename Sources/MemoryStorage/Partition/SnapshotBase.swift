import Foundation
import Synchronization

/// The snapshot a ``PartitionState`` was loaded from, as far as a layer above needs it to reuse the data it
/// derived at compaction (``PartitionStoreOptions/derivedSections``): the snapshot's revision, its memories in
/// record order (the order the derived sections describe) and those sections.
///
/// Why the memories: the state's own ``PartitionState/memories`` move as batches are applied, while the
/// derived sections address the snapshot's records by position. The array is the one the state was loaded
/// with, so it costs nothing until the state's first change (then the state copies its array on write and
/// this one stays as it was).
///
/// A section's bytes are held only until a layer above decodes it (``decodedSection(kind:decode:)``): from
/// then on the base keeps the decoded value instead, which the layer's structures share (e.g. the BM25
/// postings a search index uses), so a resident partition does not also keep their encoded copy. Every copy
/// of the state shares the sections, so a decode is done once and seen by all.
///
/// Never trust the sections blindly: check that they decode and describe ``memories`` (e.g. their count).
public struct SnapshotBase: Sendable {
    /// The lineage (``ChangeJournal/lineage``) of the state loaded from the snapshot.
    public let lineage: UInt64
    /// The snapshot's revision.
    public let revision: UInt64
    /// The snapshot's memories, in record order.
    public let memories: [StoredMemory]
    private let derived: DerivedSections

    init(lineage: UInt64, revision: UInt64, memories: [StoredMemory], sections: [SnapshotSection]) {
        self.lineage = lineage
        self.revision = revision
        self.memories = memories
        self.derived = DerivedSections(sections)
    }

    /// The snapshot's sections of derived kinds (≥ ``SnapshotSection/firstDerivedKind``) and any other kind
    /// this reader does not know, except those already decoded (``decodedSection(kind:decode:)``).
    public var sections: [SnapshotSection] { derived.sections }

    /// The first section of kind `kind` (`nil` once decoded).
    public func section(kind: UInt32) -> SnapshotSection? {
        sections.first { $0.kind == kind }
    }

    /// The section of kind `kind` decoded by `decode`, done once for every copy of this state: the first call
    /// decodes the section and keeps the result in place of its bytes (also when `decode` returns `nil`: a
    /// section that does not decode never will); later calls return that result. `nil` when there is no such
    /// section, it did not decode, or an earlier call decoded it as another type.
    public func decodedSection<T: Sendable>(kind: UInt32, decode: (SnapshotSection) -> T?) -> T? {
        derived.decoded(kind: kind, decode: decode)
    }
}

/// The derived sections of one loaded snapshot, shared by every copy of its state: the encoded sections not
/// yet decoded, and the decoded ones. A class so a decode replaces the bytes for all copies; its contents sit
/// behind a `Mutex`, so it is `Sendable`.
private final class DerivedSections: Sendable {
    private struct Contents {
        var encoded: [SnapshotSection]
        var decoded: [UInt32: (any Sendable)?] = [:]
    }

    private let contents: Mutex<Contents>

    init(_ sections: [SnapshotSection]) { contents = Mutex(Contents(encoded: sections)) }

    var sections: [SnapshotSection] { contents.withLock { $0.encoded } }

    /// Decodes under the lock, so concurrent first calls decode once.
    func decoded<T: Sendable>(kind: UInt32, decode: (SnapshotSection) -> T?) -> T? {
        contents.withLock { c in
            if let done = c.decoded[kind] { return done as? T }
            guard let i = c.encoded.firstIndex(where: { $0.kind == kind }) else { return nil }
            let value = decode(c.encoded[i])
            c.decoded[kind] = .some(value.map { $0 as any Sendable })
            c.encoded.remove(at: i)
            return value
        }
    }
}
