import Foundation

/// A parsed `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping tensor names to
/// `{dtype, shape, data_offsets}`, then the raw little-endian tensor bytes (offsets are relative to the end of
/// the header). Only `F32` tensors can be read as floats; that is all MiniLM needs.
///
/// Parsed by hand because the format is tiny and the project takes no extra dependencies.
struct SafeTensorsFile: Sendable {
    /// One tensor's entry in the header.
    struct TensorInfo: Sendable {
        var dtype: String
        var shape: [Int]
        /// Byte range inside the data section.
        var range: Range<Int>
    }

    /// Why a file could not be read, naming the file and the tensor.
    enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformedHeader(path: String, detail: String)
        case missingTensor(path: String, name: String)
        case wrongTensor(path: String, name: String, detail: String)

        var description: String {
            switch self {
            case .unreadable(let p, let r): return "cannot read \(p): \(r)"
            case .malformedHeader(let p, let d): return "\(p) is not a valid safetensors file: \(d)"
            case .missingTensor(let p, let n): return "\(p) has no tensor named \(n)"
            case .wrongTensor(let p, let n, let d): return "tensor \(n) in \(p) is unusable: \(d)"
            }
        }
    }

    let path: String
    let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    init(contentsOf url: URL) throws {
        path = url.path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw LoadError.unreadable(path: url.path, reason: "\(error)")
        }
        guard bytes.count >= 8 else {
            throw LoadError.malformedHeader(path: url.path, detail: "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw LoadError.malformedHeader(path: url.path, detail: "header length \(headerLength) exceeds the file size \(bytes.count)")
        }
        let headerStart = bytes.startIndex + 8
        let headerData = bytes[headerStart..<(headerStart + Int(headerLength))]
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw LoadError.malformedHeader(path: url.path, detail: "header is not JSON (\(error))")
        }
        guard let object = json as? [String: Any] else {
            throw LoadError.malformedHeader(path: url.path, detail: "header is not a JSON object")
        }
        let dataLength = bytes.count - 8 - Int(headerLength)
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in object where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2
            else {
                throw LoadError.malformedHeader(path: url.path, detail: "entry \(name) lacks dtype, shape or data_offsets")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw LoadError.malformedHeader(path: url.path, detail: "entry \(name) has data_offsets \(offsets) outside the \(dataLength)-byte data section")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.tensors = tensors
        self.data = bytes
        self.dataStart = headerStart + Int(headerLength)
    }

    /// The F32 tensor `name` left in the memory-mapped file (no copy: only the pages that are read are loaded),
    /// when it is 4-byte aligned in the file and the host is little-endian; else a copy. Checks the shape.
    func mappedFloats(_ name: String, shape expected: [Int]) throws -> MappedFloats {
        let start = try checkedStart(name, shape: expected)
        let count = expected.reduce(1, *)
        #if _endian(little)
        if count > 0, (start - data.startIndex) % MemoryLayout<Float>.alignment == 0,
           data.withUnsafeBytes({ Int(bitPattern: $0.baseAddress) % MemoryLayout<Float>.alignment == 0 }) {
            return MappedFloats(bytes: data[start..<(start + count * 4)], count: count)
        }
        #endif
        let copy = try floats(name, shape: expected)
        return MappedFloats(bytes: copy.withUnsafeBytes { Data($0) }, count: count)
    }

    /// The F32 tensor `name` as a flat row-major array; checks that its shape is `shape`.
    func floats(_ name: String, shape expected: [Int]) throws -> [Float] {
        let start = try checkedStart(name, shape: expected)
        let count = expected.reduce(1, *)
        guard count > 0 else { return [] }
        var result = [Float](repeating: 0, count: count)
        result.withUnsafeMutableBytes { destination in
            data.withUnsafeBytes { source in
                let base = source.baseAddress!.advanced(by: start - data.startIndex)
                destination.baseAddress!.copyMemory(from: base, byteCount: count * 4)
            }
        }
        // safetensors is little-endian; so are all supported hosts (x86-64, arm64), but be explicit.
        #if _endian(big)
        for i in result.indices { result[i] = Float(bitPattern: UInt32(littleEndian: result[i].bitPattern)) }
        #endif
        return result
    }

    /// Checks dtype, shape and byte count of `name`; returns the index of its first byte in `data`.
    private func checkedStart(_ name: String, shape expected: [Int]) throws -> Int {
        guard let info = tensors[name] else { throw LoadError.missingTensor(path: path, name: name) }
        guard info.dtype == "F32" else {
            throw LoadError.wrongTensor(path: path, name: name, detail: "dtype \(info.dtype), expected F32")
        }
        guard info.shape == expected else {
            throw LoadError.wrongTensor(path: path, name: name, detail: "shape \(info.shape), expected \(expected)")
        }
        let count = expected.reduce(1, *)
        guard info.range.count == count * 4 else {
            throw LoadError.wrongTensor(path: path, name: name, detail: "\(info.range.count) bytes for \(count) floats")
        }
        return dataStart + info.range.lowerBound
    }
}

/// A float tensor that stays in the memory-mapped model file (``SafeTensorsFile/mappedFloats(_:shape:)``): the
/// 47 MB word-embedding table is read a row per token instead of being copied at load.
struct MappedFloats: Sendable {
    /// 4-byte aligned little-endian floats (a slice of the mapped file, or a copy).
    let bytes: Data
    let count: Int

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Float.self), count: count))
        }
    }
}
