import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded ``BlobStore``: blobs are files under a local folder, with Azure Blob's semantics.
///
/// - **Layout**: blob `a/b/c` is the file `{root}/a/b/c~` (the `~`, outside the blob-name alphabet, keeps a blob
///   `a/b` and a "folder" `a/b/` from colliding). Each file starts with a ``BlobFileHeader`` (kind, ETag,
///   committed length, sealed) followed by the blob's bytes.
/// - **Processes**: every mutation runs under an exclusive `flock` on one of 256 lock files
///   (`{root}/.locks/NN`, chosen by a hash of the name), so processes and threads on one machine serialise
///   per blob. Reads take no lock: they read the header, then only bytes below its committed length.
/// - **Crash safety**: whole-blob writes go to a temporary file that is renamed over the blob. An append writes
///   its bytes past the committed length, syncs them, and only then publishes the new length in the header
///   (two header slots, so a torn header falls back to the previous one); bytes past the committed length are
///   a torn append, invisible to readers and truncated by the next append.
/// - **Durability**: with `durable`, data, headers and directory entries are fsynced before a call returns;
///   tests may turn it off for speed (a crash of the *process* still loses nothing, only power loss could).
public struct FileBlobStore: BlobStore {
    public let root: URL
    public let durable: Bool
    /// No limit by default; tests set Azure's (``AzureBlobStore/maxAppendBlockSize``) or smaller.
    public let maxAppendBlockBytes: Int
    private let rootPath: String

    public init(root: URL, durable: Bool = true, maxAppendBlockBytes: Int = .max) {
        self.root = root
        self.durable = durable
        self.maxAppendBlockBytes = maxAppendBlockBytes
        var p = root.path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        self.rootPath = p
    }

    // MARK: - BlobStore

    public func get(_ name: String, range: Range<Int>?) async throws -> BlobContent {
        try Self.validate(name)
        let fd = try openExisting(name, flags: O_RDONLY)
        defer { close(fd) }
        let header = try readHeader(fd, name)
        let size = header.committedLength
        var lower = 0, upper = size
        if let range {
            guard range.lowerBound >= 0, range.lowerBound < size, !range.isEmpty else {
                throw BlobStoreError.invalidRange(name: name, size: size)
            }
            lower = range.lowerBound
            upper = min(range.upperBound, size)
        }
        let data = try readBytes(fd, name, at: BlobFileHeader.dataOffset + lower, count: upper - lower)
        return BlobContent(data: data, etag: header.etag, totalSize: size)
    }

    public func properties(_ name: String) async throws -> BlobProperties {
        try Self.validate(name)
        let fd = try openExisting(name, flags: O_RDONLY)
        defer { close(fd) }
        return Self.properties(name, try readHeader(fd, name))
    }

    @discardableResult
    public func put(_ name: String, data: Data, condition: WriteCondition) async throws -> ETag {
        try Self.validate(name)
        return try withLock(name) {
            try check(condition, name)
            let header = BlobFileHeader.fresh(kind: .block, length: data.count)
            try replaceFile(name, header: header, data: data)
            return header.etag
        }
    }

    @discardableResult
    public func createAppendBlob(_ name: String, condition: WriteCondition) async throws -> ETag {
        try Self.validate(name)
        return try withLock(name) {
            try check(condition, name)
            let header = BlobFileHeader.fresh(kind: .append, length: 0)
            try replaceFile(name, header: header, data: Data())
            return header.etag
        }
    }

    @discardableResult
    public func appendBlock(_ name: String, data: Data, expectedPosition: Int?) async throws -> AppendResult {
        try Self.validate(name)
        return try withLock(name) {
            let fd = try openExisting(name, flags: O_RDWR)
            defer { close(fd) }
            let header = try readHeader(fd, name)
            guard header.kind == .append else { throw BlobStoreError.wrongBlobType(name: name) }
            guard !header.sealed else { throw BlobStoreError.sealed(name: name) }
            if let expectedPosition, expectedPosition != header.committedLength {
                throw BlobStoreError.appendPositionMismatch(
                    name: name, expected: expectedPosition, actualLength: header.committedLength)
            }
            let start = BlobFileHeader.dataOffset + header.committedLength
            // Bytes past the committed length are a torn append of a crashed writer: drop them.
            var st = stat()
            if fstat(fd, &st) == 0, Int(st.st_size) > start {
                guard ftruncate(fd, off_t(start)) == 0 else { throw ioError(name, "truncate torn append") }
            }
            try writeAll(fd, name, [UInt8](data), at: start)
            if durable { try sync(fd, name) }
            var next = header.next()
            next.committedLength += data.count
            try writeAll(fd, name, next.encodeSlot(), at: next.slotOffset)
            if durable { try sync(fd, name) }
            return AppendResult(offset: header.committedLength, etag: next.etag)
        }
    }

    public func seal(_ name: String) async throws {
        try Self.validate(name)
        try withLock(name) {
            let fd = try openExisting(name, flags: O_RDWR)
            defer { close(fd) }
            let header = try readHeader(fd, name)
            guard header.kind == .append else { throw BlobStoreError.wrongBlobType(name: name) }
            if header.sealed { return }
            var next = header.next()
            next.sealed = true
            try writeAll(fd, name, next.encodeSlot(), at: next.slotOffset)
            if durable { try sync(fd, name) }
        }
    }

    public func list(prefix: String, marker: String?, maxResults: Int) async throws -> BlobListPage {
        var names = try sortedNames(prefix: prefix)
        if let marker { names = names.filter { BytewiseOrder.precedes(marker, $0) } }
        let limit = max(1, maxResults)
        var items: [BlobProperties] = []
        var index = 0
        while index < names.count, items.count < limit {
            let name = names[index]
            index += 1
            let fd = open(filePath(name), O_RDONLY | O_CLOEXEC)
            if fd < 0 { continue }  // deleted meanwhile
            defer { close(fd) }
            guard let header = try? readHeader(fd, name) else { continue }
            items.append(Self.properties(name, header))
        }
        let more = index < names.count
        return BlobListPage(items: items, nextMarker: more ? items.last?.name ?? names[index - 1] : nil)
    }

    /// The names only: no file is opened, where ``list(prefix:marker:maxResults:)`` reads each one's header.
    public func listNames(prefix: String) async throws -> [String] {
        try sortedNames(prefix: prefix)
    }

    /// The names of the blobs under `prefix`, in byte order.
    private func sortedNames(prefix: String) throws -> [String] {
        if !prefix.isEmpty {
            guard prefix.utf8.allSatisfy(Self.isNameByte) else { throw BlobStoreError.invalidName(prefix) }
        }
        // Walk only the deepest folder that contains every name with this prefix.
        let dirPart = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
        var names: [String] = []
        collect(dir: dirPart, prefix: prefix, into: &names)
        names.sort(by: BytewiseOrder.precedes)
        return names
    }

    public func delete(_ name: String, condition: WriteCondition) async throws {
        try Self.validate(name)
        try withLock(name) {
            try check(condition, name)
            guard unlink(filePath(name)) == 0 else {
                if errno == ENOENT { throw BlobStoreError.notFound(name: name) }
                throw ioError(name, "unlink")
            }
            if durable { syncDirectory(of: name) }
        }
    }

    // MARK: - Names and paths

    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"),
            UInt8(ascii: "-"):
            return true
        default: return false
        }
    }

    /// Names are `/`-separated segments of `[A-Za-z0-9._-]`, none empty, `.` or `..`, at most 1024 bytes.
    /// The longest blob-name segment this store takes (255 bytes less the file suffixes it adds).
    public static let maxSegmentBytes = 234

    /// Every read and write checks its name, so this is one pass over the bytes, allocating nothing.
    static func validate(_ name: String) throws {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= 1024 else { throw BlobStoreError.invalidName(name) }
        // The segment being read: its length, and whether it is dots only (`.` and `..` are refused).
        var length = 0
        var onlyDots = true
        // A file-name component holds 255 bytes; the blob's file adds `~` and its temporary `~tmp.` + 16 hex.
        func segmentIsValid() -> Bool { length > 0 && length <= maxSegmentBytes && !(onlyDots && length <= 2) }
        for b in bytes {
            guard isNameByte(b) else { throw BlobStoreError.invalidName(name) }
            if b == UInt8(ascii: "/") {
                guard segmentIsValid() else { throw BlobStoreError.invalidName(name) }
                length = 0
                onlyDots = true
            } else {
                length += 1
                if b != UInt8(ascii: ".") { onlyDots = false }
            }
        }
        guard segmentIsValid() else { throw BlobStoreError.invalidName(name) }
    }

    private func filePath(_ name: String) -> String { rootPath + "/" + name + "~" }

    private func lockPath(_ name: String) -> String {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return rootPath + "/.locks/" + String(h % 256)
    }

    private static func properties(_ name: String, _ h: BlobFileHeader) -> BlobProperties {
        BlobProperties(name: name, size: h.committedLength, etag: h.etag, kind: h.kind, isSealed: h.sealed,
                       lastModified: h.lastModified)
    }

    // MARK: - File primitives

    private func ioError(_ name: String, _ what: String) -> BlobStoreError {
        let code = errno
        return .unavailable(name: name, message: "\(what) failed under \(rootPath): \(String(cString: strerror(code))) (errno \(code))")
    }

    private func makeDirectories(_ path: String) throws {
        var current = ""
        for seg in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + seg
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw BlobStoreError.unavailable(name: path, message: "cannot create folder \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let path = lockPath(name)
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0, errno == ENOENT {
            try makeDirectories(rootPath + "/.locks")
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw ioError(name, "open lock file \(path)") }
        defer { close(fd) }  // closing releases the flock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ioError(name, "lock") }
        }
        return try body()
    }

    private func openExisting(_ name: String, flags: Int32) throws -> Int32 {
        let fd = open(filePath(name), flags | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { throw BlobStoreError.notFound(name: name) }
            throw ioError(name, "open")
        }
        return fd
    }

    private func readHeader(_ fd: Int32, _ name: String) throws -> BlobFileHeader {
        let raw = try readBytes(fd, name, at: 0, count: BlobFileHeader.dataOffset)
        guard let h = BlobFileHeader.decode([UInt8](raw)) else {
            throw BlobStoreError.unavailable(
                name: name, message: "blob file \(filePath(name)) has no valid header (corrupt or not written by FileBlobStore)")
        }
        return h
    }

    private func readBytes(_ fd: Int32, _ name: String, at offset: Int, count: Int) throws -> Data {
        var done = 0
        let data = try LargeBuffers.readBuffer(count: count) { p in
            while done < count {
                let n = pread(fd, p.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError(name, "read")
                }
                if n == 0 { break }
                done += n
            }
        }
        guard done == count else {
            throw BlobStoreError.unavailable(name: name, message: "blob file \(filePath(name)) is shorter than its header says")
        }
        return data
    }

    private func writeAll(_ fd: Int32, _ name: String, _ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        try bytes.withUnsafeBytes { p in
            while done < p.count {
                let n = pwrite(fd, p.baseAddress! + done, p.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError(name, "write")
                }
                done += n
            }
        }
    }

    private func sync(_ fd: Int32, _ name: String) throws {
        guard fsync(fd) == 0 else { throw ioError(name, "fsync") }
    }

    private func syncDirectory(of name: String) {
        let path = filePath(name)
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        let fd = open(dir, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Checks a write condition against the blob's current state (caller holds the lock).
    private func check(_ condition: WriteCondition, _ name: String) throws {
        switch condition {
        case .none: return
        case .ifMatch(let tag):
            let fd = open(filePath(name), O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw BlobStoreError.conditionNotMet(name: name) }
                throw ioError(name, "open")
            }
            defer { close(fd) }
            guard try readHeader(fd, name).etag == tag else { throw BlobStoreError.conditionNotMet(name: name) }
        case .ifNoneMatchAny:
            if access(filePath(name), F_OK) == 0 { throw BlobStoreError.alreadyExists(name: name) }
        }
    }

    /// Writes header + data to a temporary file and renames it over the blob (caller holds the lock).
    private func replaceFile(_ name: String, header: BlobFileHeader, data: Data) throws {
        let path = filePath(name)
        let dir = String(path[..<path.lastIndex(of: "/")!])
        let tmp = path + "tmp." + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0, errno == ENOENT {
            try makeDirectories(dir)
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw ioError(name, "create \(tmp)") }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(tmp) }
        }
        var bytes = [UInt8](repeating: 0, count: BlobFileHeader.dataOffset)
        let slot = header.encodeSlot()
        bytes.replaceSubrange(header.slotOffset..<header.slotOffset + slot.count, with: slot)
        bytes.append(contentsOf: data)
        try writeAll(fd, name, bytes, at: 0)
        if durable { try sync(fd, name) }
        guard rename(tmp, path) == 0 else { throw ioError(name, "rename \(tmp)") }
        ok = true
        if durable { syncDirectory(of: name) }
    }

    private func collect(dir: String, prefix: String, into names: inout [String]) {
        let path = dir.isEmpty ? rootPath : rootPath + "/" + dir
        guard let d = opendir(path) else { return }
        defer { closedir(d) }
        var subdirs: [String] = []
        while let entry = readdir(d) {
            let fname = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if fname == "." || fname == ".." || fname == ".locks" { continue }
            let full = dir.isEmpty ? fname : dir + "/" + fname
            if fname.hasSuffix("~") {
                let name = String(full.dropLast())
                if name.hasPrefix(prefix) { names.append(name) }
            } else if !fname.contains("~") {
                // A folder (temporary files contain `~tmp.`). Descend only if it can hold matching names.
                let folderPrefix = full + "/"
                if folderPrefix.hasPrefix(prefix) || prefix.hasPrefix(folderPrefix) { subdirs.append(full) }
            }
        }
        for s in subdirs { collect(dir: s, prefix: prefix, into: &names) }
    }
}
