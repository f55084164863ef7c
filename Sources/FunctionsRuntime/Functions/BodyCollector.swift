import Hummingbird
import NIOConcurrencyHelpers

/// Reads a ``ResponseBody`` into one buffer: the invocation seam puts the router's answer, as a string, inside
/// the envelope it returns to the host.
struct BodyCollector: ResponseBodyWriter {
    let buffer: NIOLockedValueBox<ByteBuffer>

    static func collect(_ body: ResponseBody) async throws -> ByteBuffer {
        let collector = BodyCollector(buffer: NIOLockedValueBox(ByteBuffer()))
        try await body.write(collector)
        return collector.buffer.withLockedValue { $0 }
    }

    func write(_ part: ByteBuffer) async throws {
        buffer.withLockedValue { $0.writeImmutableBuffer(part) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
