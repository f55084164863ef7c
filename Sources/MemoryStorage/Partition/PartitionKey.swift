import Foundation

/// Which of the four scope ids owns a partition.
public enum OwnerKind: String, Sendable, Hashable, CaseIterable, Codable {
    case user, agent, app, run
}

/// The most specific scope id of a memory: the partition it lives in, within a tenant.
public struct PartitionOwner: Sendable, Hashable, Codable {
    public var kind: OwnerKind
    public var id: String

    public init(kind: OwnerKind, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// A partition: the unit of loading, locking and erasure, (tenant, owner). Its blobs live under ``prefix``.
public struct PartitionKey: Sendable, Hashable, CustomStringConvertible {
    public var tenant: String
    public var owner: PartitionOwner

    public init(tenant: String, owner: PartitionOwner) {
        self.tenant = tenant
        self.owner = owner
    }

    /// `t/{tenant}/p/{kind}/{id segment}/`: every blob of the partition is under this prefix, and no other
    /// partition's blob is (``BlobNameEscaping/segment(_:)`` is injective and never produces `/`).
    public var prefix: String {
        "t/\(BlobNameEscaping.escape(tenant))/p/\(owner.kind.rawValue)/\(BlobNameEscaping.segment(owner.id))/"
    }

    /// The prefix under which all of a tenant's partitions live.
    public static func tenantPrefix(_ tenant: String) -> String {
        "t/\(BlobNameEscaping.escape(tenant))/p/"
    }

    /// For logs: the tenant and the owner with its id capped (``PartitionOwner/loggable``).
    public var description: String { "tenant=\(tenant) \(owner.loggable)" }

    /// For answers and logs that must not carry personal data: the tenant, the owner kind and a short hash of the
    /// id (``PartitionOwner/hashedId``).
    public var redactedDescription: String { "tenant=\(tenant) \(owner.kind.rawValue)#\(owner.hashedId)" }
}

extension PartitionOwner {
    /// `kind=id` with the id capped at 48 characters (a longer one ends in `…` and its hash) and its control and
    /// format characters (newlines, bidi overrides, zero-width joiners) written as `\u{…}`, for log lines.
    public var loggable: String {
        let capped = id.count <= 48 ? id : String(id.prefix(40)) + "…#" + hashedId
        var shown = ""
        for scalar in capped.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                shown += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                shown.unicodeScalars.append(scalar)
            }
        }
        return "\(kind.rawValue)=\(shown)"
    }

    /// The first 8 hex digits of SHA-256 of `"{kind}/{id}"`: names an owner without revealing its id.
    public var hashedId: String { PartitionOwner.hex(Array(idHint.prefix(4))) }
}

/// Maps arbitrary strings (tenant names, user ids) to blob-name segments of `[A-Za-z0-9-_]`.
///
/// ASCII letters, digits and `-` stay as they are; every other UTF-8 byte becomes `_` and two upper-case hex
/// digits. The mapping is injective and reversible, and never yields `/`, `.` or an empty segment (the empty
/// string becomes `_`).
public enum BlobNameEscaping {
    public static func escape(_ s: String) -> String {
        if s.isEmpty { return "_" }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "_" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// Escaped ids longer than this many bytes are named by their hash (``segment(_:)``): it keeps a segment
    /// (and the file backend's temporary names beside it) well inside a file-name component's 255 bytes and a
    /// blob name inside Azure's 1,024 characters, whatever Unicode the id holds.
    public static let maxEscapedSegment = 120

    /// The blob-name segment of a scope id: ``escape(_:)`` when that is at most ``maxEscapedSegment`` bytes,
    /// else the first (at most 40) bytes of the escape, never cutting an `_XX`, then `.` and the 64 hex
    /// digits of the SHA-256 of the id's UTF-8. Injective: `.` never occurs in an escape, so the two forms
    /// cannot meet, and long ids differ in their hashes. A hashed segment is not reversible: the partition
    /// keeps its id in its `owner-id` blob (``PartitionStore``).
    public static func segment(_ id: String) -> String {
        let escaped = escape(id)
        guard escaped.utf8.count > maxEscapedSegment else { return escaped }
        var head = Substring(escaped.prefix(40))
        // Never end inside an `_XX` escape.
        if let underscore = head.lastIndex(of: "_"), head.distance(from: underscore, to: head.endIndex) < 3 {
            head = head[..<underscore]
        }
        let digest = SHA256.hash(data: Data(id.utf8)).map { String(format: "%02x", $0) }.joined()
        return head + "." + digest
    }

    /// True for a segment ``segment(_:)`` made by hashing (the id must be read from the partition).
    public static func isHashedSegment(_ segment: Substring) -> Bool { segment.contains(".") }

    /// The inverse of ``escape(_:)``; `nil` for a segment ``escape(_:)`` cannot produce.
    public static func unescape(_ s: String) -> String? {
        if s == "_" { return "" }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "_") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                    bytes.append(b)
                default:
                    return nil  // `escape` never leaves any other byte bare (so never a hashed segment's `.`)
                }
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}

import Crypto

extension PartitionOwner {
    /// 6 bytes that every memory id of this owner carries (bytes 0–5 of the UUID), so that a memory can be
    /// found from its id alone: the id gives the hint, the tenant's owner directory maps the hint to owners.
    /// The first 6 bytes of SHA-256 of `"{kind}/{id}"`.
    public var idHint: [UInt8] {
        Array(SHA256.hash(data: Data("\(kind.rawValue)/\(id)".utf8)).prefix(6))
    }

    /// The hint as 12 lower-case hex digits, as used in directory blob names.
    public var idHintHex: String { PartitionOwner.hex(idHint) }

    /// A new random memory id for this owner: a version-8 UUID whose first 6 bytes are ``idHint``.
    public func newMemoryId() -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<16 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let hint = idHint
        for i in 0..<6 { bytes[i] = hint[i] }
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The owner hint a memory id carries, as 12 hex digits.
    public static func idHintHex(of id: UUID) -> String {
        let u = id.uuid
        return hex([u.0, u.1, u.2, u.3, u.4, u.5])
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
