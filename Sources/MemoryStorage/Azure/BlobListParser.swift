import Foundation

/// Parses a List Blobs answer (`<EnumerationResults>`) into a ``BlobListPage``.
///
/// Reads `Blobs/Blob/Name` and, under `Properties`, `Content-Length`, `Etag`, `BlobType`, `Sealed` and
/// `Last-Modified`, plus `NextMarker` (empty = the listing is complete). Unknown elements are ignored.
///
/// A small reader of the XML the Blob service writes (elements, attributes, character and entity references,
/// comments, CDATA, the prolog) rather than Foundation's `XMLParser`: that one lives in FoundationXML, which
/// makes every packaged binary need `libxml2.so.2` at load time, a library Functions hosts need not have.
enum BlobListParser {
    struct ParseFailure: Error {
        var message: String
    }

    /// - Throws: a message when the bytes are not a well-formed listing.
    static func parse(_ data: Data) throws(ParseFailure) -> BlobListPage {
        var items: [BlobProperties] = []
        var nextMarker: String?
        var path: [String] = []
        var text = ""
        var current: [String: String] = [:]
        var reader = XMLEventReader(bytes: [UInt8](data))
        while let event = try reader.next() {
            switch event {
            case .start(let name):
                path.append(name)
                text = ""
                if name == "Blob" { current = [:] }
            case .text(let s):
                text += s
            case .end(let name):
                guard path.last == name else { throw ParseFailure(message: "</\(name.prefix(40))> closes <\(path.last ?? "")>") }
                if path.count >= 2, path[path.count - 2] == "Blob" || path[path.count - 2] == "Properties" {
                    current[name] = text
                }
                if name == "NextMarker", path.count == 2 {
                    nextMarker = text.isEmpty ? nil : text
                }
                if name == "Blob" {
                    guard let blobName = current["Name"], let size = current["Content-Length"].flatMap({ Int($0) }),
                          let etag = current["Etag"] else {
                        throw ParseFailure(message: "a <Blob> lacks Name, Content-Length or Etag")
                    }
                    let kind = BlobKind(rawValue: current["BlobType"] ?? "") ?? .block
                    items.append(BlobProperties(
                        name: blobName, size: size, etag: ETag(etag), kind: kind,
                        isSealed: current["Sealed"]?.lowercased() == "true",
                        lastModified: current["Last-Modified"].flatMap(HTTPDate.parse) ?? Date(timeIntervalSince1970: 0)))
                }
                path.removeLast()
                text = ""
            }
        }
        guard path.isEmpty else { throw ParseFailure(message: "the document ends inside <\(path.last ?? "")>") }
        guard reader.sawRoot else { throw ParseFailure(message: "not XML: no root element") }
        return BlobListPage(items: items, nextMarker: nextMarker)
    }
}

/// The events of an XML document, in order: element starts and ends (with their names; attributes are read
/// and dropped) and the text between them with references resolved.
struct XMLEventReader {
    enum Event: Equatable {
        case start(String)
        case end(String)
        case text(String)
    }

    private let bytes: [UInt8]
    private var i = 0
    private var pendingEnd: String?
    private(set) var sawRoot = false

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // UTF-8 byte order mark
    }

    private func fail(_ message: String) -> BlobListParser.ParseFailure {
        BlobListParser.ParseFailure(message: "\(message) at byte \(i)")
    }

    mutating func next() throws(BlobListParser.ParseFailure) -> Event? {
        if let name = pendingEnd {
            pendingEnd = nil
            return .end(name)
        }
        guard i < bytes.count else { return nil }
        guard bytes[i] == UInt8(ascii: "<") else {
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "<") { i += 1 }
            return .text(try Self.unescape(bytes[start..<i]))
        }
        if starts(with: "<?") { try skip(past: "?>"); return try next() }
        if starts(with: "<!--") { try skip(past: "-->"); return try next() }
        if starts(with: "<![CDATA[") {
            i += 9
            let start = i
            try skip(past: "]]>")
            return .text(String(decoding: bytes[start..<(i - 3)], as: UTF8.self))
        }
        if starts(with: "<!") { try skip(past: ">"); return try next() }  // DOCTYPE (no internal subset here)
        i += 1
        let closing = i < bytes.count && bytes[i] == UInt8(ascii: "/")
        if closing { i += 1 }
        let name = readName()
        guard !name.isEmpty else { throw fail("an element without a name") }
        if closing {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw fail("unterminated </\(name.prefix(40))>") }
            i += 1
            return .end(name)
        }
        // Attributes: name="value" or name='value'.
        while true {
            skipSpace()
            guard i < bytes.count else { throw fail("unterminated <\(name.prefix(40))>") }
            if bytes[i] == UInt8(ascii: ">") { i += 1; break }
            if starts(with: "/>") { i += 2; pendingEnd = name; break }
            guard !readName().isEmpty else { throw fail("a malformed attribute in <\(name.prefix(40))>") }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw fail("an attribute without a value") }
            i += 1
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
                throw fail("an unquoted attribute value")
            }
            let quote = bytes[i]
            i += 1
            while i < bytes.count, bytes[i] != quote { i += 1 }
            guard i < bytes.count else { throw fail("an unterminated attribute value") }
            i += 1
        }
        sawRoot = true
        return .start(name)
    }

    private func starts(with s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        return s.withUTF8Buffer { p in (0..<n).allSatisfy { bytes[i + $0] == p[$0] } }
    }

    private mutating func skip(past s: StaticString) throws(BlobListParser.ParseFailure) {
        while i < bytes.count {
            if starts(with: s) { i += s.utf8CodeUnitCount; return }
            i += 1
        }
        throw fail("unterminated markup")
    }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    private mutating func readName() -> String {
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: ">") || b == UInt8(ascii: "/")
                || b == UInt8(ascii: "=") { break }
            i += 1
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Character data with `&lt; &gt; &amp; &quot; &apos; &#N; &#xN;` resolved.
    static func unescape(_ raw: ArraySlice<UInt8>) throws(BlobListParser.ParseFailure) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out = ""
        var it = raw.startIndex
        while it < raw.endIndex {
            guard raw[it] == UInt8(ascii: "&") else {
                let start = it
                while it < raw.endIndex, raw[it] != UInt8(ascii: "&") { it += 1 }
                out += String(decoding: raw[start..<it], as: UTF8.self)
                continue
            }
            guard let semi = raw[it...].firstIndex(of: UInt8(ascii: ";")), semi - it <= 12 else {
                throw BlobListParser.ParseFailure(message: "an unterminated entity reference")
            }
            let entity = String(decoding: raw[(it + 1)..<semi], as: UTF8.self)
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let value: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    value = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    value = UInt32(entity.dropFirst())
                } else {
                    value = nil
                }
                guard let value, let scalar = Unicode.Scalar(value) else {
                    throw BlobListParser.ParseFailure(message: "an unknown entity &\(entity.prefix(12));")
                }
                out.unicodeScalars.append(scalar)
            }
            it = semi + 1
        }
        return out
    }
}
