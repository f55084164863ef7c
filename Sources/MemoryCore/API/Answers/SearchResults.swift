import Foundation

/// The answer to `POST /v3/memories/search/`: hits best first (each with its memory, score, breakdown and,
/// when asked, explanation), and the prompt-ready memory block when the request set `max_tokens`.
public struct SearchResults: Sendable {
    public var hits: [SearchHit]
    public var memoryBlock: String?

    public init(hits: [SearchHit], memoryBlock: String? = nil) {
        self.hits = hits
        self.memoryBlock = memoryBlock
    }
}
