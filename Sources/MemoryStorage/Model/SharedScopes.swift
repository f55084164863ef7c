/// A memory's ``MemoryScopes`` behind one reference, so the memories that carry the same scopes (in a
/// partition, nearly all of them) share one copy: a ``StoredMemory`` holds 8 bytes for its scopes instead of
/// four optional strings (64 bytes). Immutable, hence `Sendable`; equal when the scopes are.
final class SharedScopes: Sendable, Equatable {
    let value: MemoryScopes

    init(_ value: MemoryScopes) { self.value = value }

    static func == (a: SharedScopes, b: SharedScopes) -> Bool { a === b || a.value == b.value }
}
