import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses a List Blobs answer (`<EnumerationResults>`) into a ``BlobListPage`` with Foundation's `XMLParser`.
///
/// Reads `Blobs/Blob/Name` and, under `Properties`, `Content-Length`, `Etag`, `BlobType`, `Sealed` and
/// `Last-Modified`, plus `NextMarker` (empty = the listing is complete). Unknown elements are ignored.
final class BlobListParser: NSObject, XMLParserDelegate {
    private var items: [BlobProperties] = []
    private var nextMarker: String?
    private var path: [String] = []
    private var text = ""
    private var current: [String: String] = [:]
    private var failure: String?

    /// - Throws: a message when the XML is not a listing.
    static func parse(_ data: Data) throws(ParseFailure) -> BlobListPage {
        let delegate = BlobListParser()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse(), delegate.failure == nil else {
            throw ParseFailure(message: delegate.failure ?? parser.parserError.map { "\($0)" } ?? "not XML")
        }
        return BlobListPage(items: delegate.items, nextMarker: delegate.nextMarker)
    }

    struct ParseFailure: Error {
        var message: String
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        path.append(elementName)
        text = ""
        if elementName == "Blob" { current = [:] }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        defer { path.removeLast() }
        if path.count >= 2, path[path.count - 2] == "Blob" || path[path.count - 2] == "Properties" {
            current[elementName] = text
        }
        if elementName == "NextMarker", path.count == 2 {
            nextMarker = text.isEmpty ? nil : text
        }
        if elementName == "Blob" {
            guard let name = current["Name"], let size = current["Content-Length"].flatMap({ Int($0) }),
                  let etag = current["Etag"] else {
                failure = "a <Blob> lacks Name, Content-Length or Etag"
                parser.abortParsing()
                return
            }
            let kind = BlobKind(rawValue: current["BlobType"] ?? "") ?? .block
            items.append(BlobProperties(
                name: name, size: size, etag: ETag(etag), kind: kind,
                isSealed: current["Sealed"]?.lowercased() == "true",
                lastModified: current["Last-Modified"].flatMap(HTTPDate.parse) ?? Date(timeIntervalSince1970: 0)))
        }
        text = ""
    }
}
