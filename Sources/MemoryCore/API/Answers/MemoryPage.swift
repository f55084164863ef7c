import Foundation
import MemoryStorage

/// One page of `POST /v3/memories/` (list): the memories on it, how many match in all, and where the page is.
/// Links to the next and previous pages are the encoder's business (``ResponseEncoding``).
public struct MemoryPage: Sendable {
    public var items: [StoredMemory]
    /// Memories matching the request over all pages.
    public var count: Int
    /// 1-based page number and the page size asked for.
    public var page: Int
    public var pageSize: Int

    public init(items: [StoredMemory], count: Int, page: Int, pageSize: Int) {
        self.items = items
        self.count = count
        self.page = page
        self.pageSize = pageSize
    }

    public var hasNext: Bool { page * pageSize < count }
    public var hasPrevious: Bool { page > 1 }
}
