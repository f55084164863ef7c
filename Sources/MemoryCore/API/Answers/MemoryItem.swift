import MemoryStorage

/// A memory as the service answers it (get, update, and inside pages, search hits and exports): the stored
/// record. Named here so callers of the service (the HTTP layer) use MemoryCore's API without importing the
/// storage engine.
public typealias MemoryItem = StoredMemory
