import Foundation

/// Turns a storage location string (as operators and tests pass to `memory-tool --storage`) into a
/// ``BlobStore``.
///
/// - `/some/folder` or `file:/some/folder`: a durable ``FileBlobStore`` on that folder;
/// - `file-nosync:/some/folder`: the same without fsync (tests only: power loss could lose acknowledged writes);
/// - `azure:[container@]<connection string or account URL>`: an ``AzureBlobStore`` (see ``AzureBlobStoreLocation``).
public enum BlobStoreLocation {
    public enum Error: Swift.Error, CustomStringConvertible {
        case unsupported(String)
        public var description: String {
            switch self {
            case .unsupported(let s):
                return "unsupported storage location '\(s)': use a folder path, file:/path, file-nosync:/path or azure:[container@]<connection string or account URL>"
            }
        }
    }

    public static func open(_ location: String) throws -> any BlobStore {
        if location.hasPrefix(AzureBlobStoreLocation.scheme) { return try AzureBlobStoreLocation.open(location) }
        if location.hasPrefix("file-nosync:") {
            return FileBlobStore(root: URL(fileURLWithPath: folder(String(location.dropFirst("file-nosync:".count)))),
                                 durable: false)
        }
        if location.hasPrefix("file:") {
            return FileBlobStore(root: URL(fileURLWithPath: folder(String(location.dropFirst("file:".count)))))
        }
        if location.hasPrefix("/") || location.hasPrefix(".") {
            return FileBlobStore(root: URL(fileURLWithPath: location))
        }
        throw Error.unsupported(location)
    }

    private static func folder(_ s: String) -> String {
        s.hasPrefix("//") ? String(s.dropFirst(2)) : s
    }
}
