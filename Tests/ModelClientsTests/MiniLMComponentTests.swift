import Foundation
import Testing
@testable import ModelClients

/// The parts of the MiniLM embedder that need no weights: the matrix multiply, the safetensors reader, the
/// tokenizer rules, and the error when the model is missing.
@Suite("MiniLM components")
struct MiniLMComponentTests {
    /// A deterministic pseudo-random matrix.
    private func matrix(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    @Test("the Swift kernel equals a naive product, including ragged rows and columns",
          arguments: [(1, 8, 3), (7, 13, 5), (13, 24, 384), (50, 1536 + 3, 17), (97, 40, 1536)])
    func swiftKernel(shape: (rows: Int, columns: Int, inner: Int)) {
        let (m, n, k) = shape
        let a = matrix(m * k, seed: 1), w = matrix(n * k, seed: 2), bias = matrix(n, seed: 3)
        let packed = SwiftSGEMM.pack(weight: w, outFeatures: n, inFeatures: k)
        var c = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { a in
            packed.withUnsafeBufferPointer { p in
                bias.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        SwiftSGEMM.multiply(a: a.baseAddress!, rows: m, inner: k, packedB: p.baseAddress!,
                                            columns: n, bias: b.baseAddress!, c: c.baseAddress!)
                    }
                }
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var expected = bias[j]
                for x in 0..<k { expected += a[i * k + x] * w[j * k + x] }
                worst = max(worst, abs(c[i * n + j] - expected))
            }
        }
        #expect(worst < 1e-3 * Float(k).squareRoot(), "largest difference \(worst)")
    }

    @Test("OpenBLAS, when installed, agrees with the Swift kernel")
    func openBLASAgrees() throws {
        guard let blas = OpenBLAS.load() else {
            // Nothing to compare on a host without OpenBLAS; the float backend then is the Swift kernel.
            #expect(try MatrixMultiplier(backend: .float).weightLayout == .swiftPanels)
            return
        }
        let (m, n, k) = (37, 72, 129)
        let a = matrix(m * k, seed: 4), w = matrix(n * k, seed: 5), bias = matrix(n, seed: 6)
        let viaBLAS = DenseLayer(weight: w, bias: bias, outFeatures: n, inFeatures: k, layout: .rowMajor)
        let viaSwift = DenseLayer(weight: w, bias: bias, outFeatures: n, inFeatures: k, layout: .swiftPanels)
        var c1 = [Float](repeating: 0, count: m * n), c2 = c1
        a.withUnsafeBufferPointer { a in
            c1.withUnsafeMutableBufferPointer {
                MatrixMultiplier(kernel: .openBLAS(blas)).apply(viaBLAS, input: a.baseAddress!, rows: m, output: $0.baseAddress!)
            }
            c2.withUnsafeMutableBufferPointer {
                MatrixMultiplier(kernel: .swiftSIMD).apply(viaSwift, input: a.baseAddress!, rows: m, output: $0.baseAddress!)
            }
        }
        let worst = zip(c1, c2).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst < 1e-3, "largest difference \(worst)")
    }

    @Test("the int8 kernel equals a naive product with the dequantised weights and stays near the float one",
          arguments: [(1, 16, 3), (5, 13, 7), (17, 1152, 384), (13, 384 + 5, 1536), (50, 40, 129)])
    func int8Kernel(shape: (rows: Int, columns: Int, inner: Int)) throws {
        try #require(Int8GEMM.isAvailable, "this CPU lacks AVX2/FMA, which the handlers require at startup")
        let (m, n, k) = shape
        let a = matrix(m * k, seed: 7), w = matrix(n * k, seed: 8), bias = matrix(n, seed: 9)
        let layer = DenseLayer(weight: w, bias: bias, outFeatures: n, inFeatures: k, layout: .int8Panels)
        let quantized = try #require(layer.int8)
        #expect(layer.weight.isEmpty, "the float weights are dropped once quantised")
        #expect(quantized.scale.count == n)
        // Unpack: panel p, row i, lane j holds feature p·16 + j.
        var dequantized = [Float](repeating: 0, count: n * k)
        for j in 0..<n {
            for i in 0..<k {
                let q = quantized.packed[(j / Int8GEMM.panelWidth * k + i) * Int8GEMM.panelWidth + j % Int8GEMM.panelWidth]
                dequantized[j * k + i] = Float(q) * quantized.scale[j]
            }
        }
        // Each quantised weight is within half a step of the float one.
        var worstStep: Float = 0
        for j in 0..<n {
            for i in 0..<k { worstStep = max(worstStep, abs(dequantized[j * k + i] - w[j * k + i]) / quantized.scale[j]) }
        }
        #expect(worstStep <= 0.5001, "a weight is \(worstStep) steps from its float value")
        for threads in [1, 2] {
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer {
                    MatrixMultiplier(kernel: .int8, threads: threads).apply(layer, input: a.baseAddress!, rows: m,
                                                                            output: $0.baseAddress!)
                }
            }
            var worstExact: Float = 0, worstFloat: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    var exact = bias[j], float = bias[j]
                    for x in 0..<k {
                        exact += a[i * k + x] * dequantized[j * k + x]
                        float += a[i * k + x] * w[j * k + x]
                    }
                    worstExact = max(worstExact, abs(c[i * n + j] - exact))
                    worstFloat = max(worstFloat, abs(c[i * n + j] - float))
                }
            }
            #expect(worstExact < 1e-3 * Float(k).squareRoot(), "largest difference \(worstExact) (\(threads) threads)")
            // Rounding errors of ±½ step (1/254 of the largest weight, here ~1) add up like a random walk.
            #expect(worstFloat < 0.02 * Float(k).squareRoot(), "largest difference \(worstFloat) from float")
        }
    }

    @Test("the C quantiser packs exactly what the Swift reference loop packs (ties, zero rows, ragged shapes)",
          arguments: [(16, 8), (13, 7), (1152, 384), (389, 1536), (40, 129)])
    func nativeQuantiserMatchesTheReference(shape: (columns: Int, inner: Int)) throws {
        try #require(Int8GEMM.isAvailable, "this CPU lacks AVX2/FMA, which the handlers require at startup")
        let (n, k) = shape
        var w = matrix(n * k, seed: 11)
        // Exact halves of a step (ties) and an all-zero row.
        for i in stride(from: 0, to: k, by: 3) { w[i] = Float(i % 7) + 0.5 }
        w[0] = 127
        if n > 2 { for i in 0..<k { w[2 * k + i] = 0 } }
        for threads in [1, 3] {
            let native = Int8GEMM.quantize(weight: w, outFeatures: n, inFeatures: k, threads: threads)
            let reference = Int8GEMM.quantize(weight: w, outFeatures: n, inFeatures: k, threads: threads, portable: true)
            #expect(native.scale == reference.scale)
            #expect(native.packed == reference.packed)
        }
    }

    @Test("Q, K and V quantised apart and stacked equal the fused float layer quantised")
    func stackedInt8EqualsFusedThenQuantised() throws {
        try #require(Int8GEMM.isAvailable, "this CPU lacks AVX2/FMA, which the handlers require at startup")
        let h = 48, k = 40
        let parts = (0..<3).map { DenseLayer(weight: matrix(h * k, seed: 20 + UInt64($0)), bias: matrix(h, seed: 30 + UInt64($0)),
                                             outFeatures: h, inFeatures: k, layout: .rowMajor) }
        let fused = DenseLayer.fused(parts, layout: .int8Panels)
        let stacked = DenseLayer.stackedInt8(parts.map {
            DenseLayer(weight: $0.weight, bias: $0.bias, outFeatures: h, inFeatures: k, layout: .int8Panels)
        })
        #expect(stacked.outFeatures == 3 * h && stacked.inFeatures == k)
        #expect(stacked.bias == fused.bias)
        #expect(stacked.int8?.packed == fused.int8?.packed)
        #expect(stacked.int8?.scale == fused.int8?.scale)
    }

    @Test("MEMORY_MINILM_BACKEND picks the backend; absent means automatic (int8 with AVX2/FMA), unknown names are refused")
    func backendSetting() throws {
        #expect(try MiniLMEmbedder.backend(environment: [:]) == .automatic)
        #expect(try MiniLMEmbedder.backend(environment: ["MEMORY_MINILM_BACKEND": ""]) == .automatic)
        #expect(try MiniLMEmbedder.backend(environment: ["MEMORY_MINILM_BACKEND": "float"]) == .float)
        #expect(try MiniLMEmbedder.backend(environment: ["MEMORY_MINILM_BACKEND": "int8"]) == .int8)
        #expect(throws: ModelClientError.self) {
            try MiniLMEmbedder.backend(environment: ["MEMORY_MINILM_BACKEND": "fp16"])
        }
        if Int8GEMM.isAvailable && !Int8VNNIGEMM.isAvailable {
            #expect(try MatrixMultiplier(backend: .automatic).weightLayout == .int8Panels)
        }
    }

    @Test("safetensors: tensors are read by name; bad files give typed errors")
    func safeTensors() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("minilm-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        func write(_ name: String, header: String, payload: [Float]) throws -> URL {
            var bytes = Data()
            let headerBytes = Data(header.utf8)
            withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(headerBytes)
            payload.withUnsafeBytes { bytes.append(contentsOf: $0) }
            let url = directory.appendingPathComponent(name)
            try bytes.write(to: url)
            return url
        }
        let good = try write("good.safetensors", header: """
            {"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},\
            "a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}
            """, payload: [1, 2, 3, 4.5, -6])
        let file = try SafeTensorsFile(contentsOf: good)
        #expect(try file.floats("a", shape: [3]) == [1, 2, 3])
        #expect(try file.floats("b", shape: [2]) == [4.5, -6])
        #expect(throws: SafeTensorsFile.LoadError.self) { try file.floats("a", shape: [4]) }
        #expect(throws: SafeTensorsFile.LoadError.self) { try file.floats("missing", shape: [1]) }

        let outOfRange = try write("range.safetensors",
                                   header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,400]}}"#, payload: [1])
        #expect(throws: SafeTensorsFile.LoadError.self) { try SafeTensorsFile(contentsOf: outOfRange) }
        let notJSON = try write("json.safetensors", header: "not json", payload: [])
        #expect(throws: SafeTensorsFile.LoadError.self) { try SafeTensorsFile(contentsOf: notJSON) }
        let truncated = directory.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: truncated)
        #expect(throws: SafeTensorsFile.LoadError.self) { try SafeTensorsFile(contentsOf: truncated) }
    }

    @Test("tokenizer: lower-case, accents, punctuation, CJK, WordPiece and [UNK], truncation")
    func tokenizerRules() throws {
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "!", "cafe", "un", "##aff",
                          "##able", "東", "京", ","]
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("minilm-vocab-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        try (vocabulary.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        let tokenizer = try BertTokenizer(vocabularyFile: url, maxLength: 6)
        func ids(_ tokens: [String]) -> [Int32] { tokens.map { Int32(vocabulary.firstIndex(of: $0)!) } }

        #expect(tokenizer.encode("HELLO,\tWorld!") == ids(["[CLS]", "hello", ",", "world", "!", "[SEP]"]))
        #expect(tokenizer.encode("Café\u{200B}") == ids(["[CLS]", "cafe", "[SEP]"]))
        #expect(tokenizer.encode("unaffable") == ids(["[CLS]", "un", "##aff", "##able", "[SEP]"]))
        #expect(tokenizer.encode("東京") == ids(["[CLS]", "東", "京", "[SEP]"]))
        #expect(tokenizer.encode("unknownword") == ids(["[CLS]", "[UNK]", "[SEP]"]))
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == ids(["[CLS]", "[UNK]", "[SEP]"]))
        #expect(tokenizer.encode("hello hello hello hello hello hello") == ids(["[CLS]", "hello", "hello", "hello", "hello", "[SEP]"]))
        #expect(tokenizer.encode("") == ids(["[CLS]", "[SEP]"]))
    }

    @Test("a missing model folder gives notConfigured naming scripts/fetch-minilm.sh")
    func missingModel() throws {
        let nowhere = FileManager.default.temporaryDirectory.appendingPathComponent("no-minilm-\(UUID().uuidString)")
        do {
            _ = try MiniLMEmbedder(modelDirectory: nowhere)
            Issue.record("loading from \(nowhere.path) should have failed")
        } catch let ModelClientError.notConfigured(provider, remedy) {
            #expect(provider == "all-MiniLM-L6-v2")
            #expect(remedy.contains("scripts/fetch-minilm.sh"))
            #expect(remedy.contains(nowhere.path))
        }
    }

    @Test("the model folder comes from MEMORY_MINILM_PATH, else ./models/all-MiniLM-L6-v2")
    func modelDirectorySetting() {
        let base = URL(fileURLWithPath: "/srv/app", isDirectory: true)
        #expect(MiniLMEmbedder.modelDirectory(environment: [:], baseDirectory: base).path
                == "/srv/app/models/all-MiniLM-L6-v2")
        #expect(MiniLMEmbedder.modelDirectory(environment: ["MEMORY_MINILM_PATH": "/opt/minilm"], baseDirectory: base).path
                == "/opt/minilm")
        #expect(MiniLMEmbedder.modelDirectory(environment: ["MEMORY_MINILM_PATH": "weights"], baseDirectory: base).path
                == "/srv/app/weights")
    }
}

@Suite("MiniLM GELU")
struct MiniLMGELUTests {
    @Test("the vectorised erf matches the C library's to 1e-6 over [-6, 6]")
    func erfAccuracy() {
        var worst: Float = 0
        var x: Float = -6
        while x <= 6 {
            let values = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0013 })
            let approximations = GELU.erf(values)
            for lane in 0..<8 { worst = max(worst, abs(approximations[lane] - Foundation.erf(values[lane]))) }
            x += 0.0107
        }
        #expect(worst < 1e-6, "largest erf error \(worst)")
    }

    @Test("GELU in place equals x·½·(1 + erf(x/√2)), including the unvectorised tail")
    func geluValues() {
        var values: [Float] = (0..<21).map { Float($0) * 0.5 - 5 }
        let expected = values.map { 0.5 * $0 * (1 + Foundation.erf($0 / Float(2).squareRoot())) }
        values.withUnsafeMutableBufferPointer { GELU.apply($0.baseAddress!, count: $0.count) }
        for (got, want) in zip(values, expected) { #expect(abs(got - want) < 1e-5, "\(got) vs \(want)") }
    }
}
