import Foundation

/// The all-MiniLM-L6-v2 forward pass: BERT embeddings → 6 transformer layers → mean pooling → L2
/// normalisation, for a batch of token-id sequences.
///
/// Batching without padding: the tokens of all sequences are stacked into one `[tokens × hidden]` matrix, so
/// every dense layer is one large matrix multiply over real tokens only, while attention runs per sequence over
/// that sequence's own tokens. This equals padding to the longest sequence with an attention mask (masked
/// positions get zero weight) but does no work for padding.
struct BertEncoder: Sendable {
    let weights: MiniLMWeights
    let multiplier: MatrixMultiplier

    /// One unit vector per sequence. Every sequence must be non-empty, at most `maxPositions` long, with ids
    /// below `vocabularySize` (``MiniLMEmbedder`` guarantees this). `singleThreaded` keeps attention and the
    /// Swift kernel on the calling thread (for callers that run one pass per core themselves).
    func embed(_ sequences: [[Int32]], singleThreaded: Bool = false) -> [[Float]] {
        let multiplier = singleThreaded ? self.multiplier.singleThreaded() : self.multiplier
        let c = weights.configuration
        let h = c.hiddenSize
        var starts: [Int] = []
        var total = 0
        for s in sequences { starts.append(total); total += s.count }
        guard total > 0 else { return sequences.map { _ in [Float](repeating: 0, count: h) } }

        let x = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: total * 3 * h)
        let context = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let sublayer = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let intermediate = UnsafeMutablePointer<Float>.allocate(capacity: total * c.intermediateSize)
        defer {
            x.deallocate(); qkv.deallocate(); context.deallocate(); sublayer.deallocate(); intermediate.deallocate()
        }

        embedTokens(sequences, into: x)
        let spans = zip(starts, sequences).map { (start: $0, length: $1.count) }
        for layer in weights.layers {
            multiplier.apply(layer.queryKeyValue, input: x, rows: total, output: qkv)
            Attention.run(qkv: qkv, spans: spans, heads: c.heads, headSize: c.headSize, output: context,
                          threads: multiplier.threads)
            multiplier.apply(layer.attentionOutput, input: context, rows: total, output: sublayer)
            addAndNormalize(sublayer, into: x, rows: total, weight: layer.attentionNormWeight,
                            bias: layer.attentionNormBias)
            multiplier.apply(layer.intermediate, input: x, rows: total, output: intermediate)
            GELU.apply(intermediate, count: total * c.intermediateSize)
            multiplier.apply(layer.output, input: intermediate, rows: total, output: sublayer)
            addAndNormalize(sublayer, into: x, rows: total, weight: layer.outputNormWeight,
                            bias: layer.outputNormBias)
        }
        return spans.map { meanPooledUnitVector(x + $0.start * h, rows: $0.length, width: h) }
    }

    /// `x[token] = LayerNorm(word[id] + position[i] + tokenType[0])`.
    private func embedTokens(_ sequences: [[Int32]], into x: UnsafeMutablePointer<Float>) {
        let h = weights.configuration.hiddenSize
        weights.wordEmbeddings.withUnsafeBufferPointer { word in
            weights.positionEmbeddings.withUnsafeBufferPointer { position in
                weights.tokenTypeEmbeddings.withUnsafeBufferPointer { tokenType in
                    var row = 0
                    for sequence in sequences {
                        for (i, id) in sequence.enumerated() {
                            let out = x + row * h
                            let w = word.baseAddress! + Int(id) * h
                            let p = position.baseAddress! + i * h
                            let t = tokenType.baseAddress!
                            for j in 0..<h { out[j] = w[j] + p[j] + t[j] }
                            row += 1
                        }
                    }
                }
            }
        }
        weights.embeddingNormWeight.withUnsafeBufferPointer { w in
            weights.embeddingNormBias.withUnsafeBufferPointer { b in
                let rows = sequences.reduce(0) { $0 + $1.count }
                for r in 0..<rows {
                    LayerNorm.apply(x + r * h, width: h, weight: w.baseAddress!, bias: b.baseAddress!,
                                    epsilon: weights.configuration.layerNormEpsilon)
                }
            }
        }
    }

    /// `x = LayerNorm(sublayer + x)` row by row (the residual connection of a BERT sub-layer).
    private func addAndNormalize(_ sublayer: UnsafeMutablePointer<Float>, into x: UnsafeMutablePointer<Float>,
                                 rows: Int, weight: [Float], bias: [Float]) {
        let h = weights.configuration.hiddenSize
        let epsilon = weights.configuration.layerNormEpsilon
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let row = x + r * h, add = sublayer + r * h
                    for j in 0..<h { row[j] += add[j] }
                    LayerNorm.apply(row, width: h, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: epsilon)
                }
            }
        }
    }

    /// Mean of the rows, scaled to unit length.
    private func meanPooledUnitVector(_ rows: UnsafeMutablePointer<Float>, rows count: Int, width: Int) -> [Float] {
        var sum = [Float](repeating: 0, count: width)
        for r in 0..<count {
            let row = rows + r * width
            for j in 0..<width { sum[j] += row[j] }
        }
        let inverse = 1 / Float(max(count, 1))
        return l2Normalized(sum.map { $0 * inverse })
    }
}

/// Layer normalisation of one row: `(x - mean) / sqrt(var + ε) · weight + bias` (biased variance, as PyTorch),
/// eight lanes at a time: the scalar reductions do not vectorise by themselves (float addition is not
/// reassociated), and there are 13 normalisations of every token per pass.
enum LayerNorm {
    @inline(__always)
    static func apply(_ x: UnsafeMutablePointer<Float>, width: Int, weight: UnsafePointer<Float>,
                      bias: UnsafePointer<Float>, epsilon: Float) {
        let vectorWidth = width / 8 * 8
        var sum = SIMD8<Float>()
        var j = 0
        while j < vectorWidth { sum += load8(x + j); j += 8 }
        var total = sum.sum()
        while j < width { total += x[j]; j += 1 }
        let mean = total / Float(width)
        var squares = SIMD8<Float>()
        j = 0
        while j < vectorWidth { let d = load8(x + j) - mean; squares += d * d; j += 8 }
        var variance = squares.sum()
        while j < width { let d = x[j] - mean; variance += d * d; j += 1 }
        variance /= Float(width)
        let scale = 1 / (variance + epsilon).squareRoot()
        j = 0
        while j < vectorWidth {
            let y = (load8(x + j) - mean) * scale * load8(weight + j) + load8(bias + j)
            UnsafeMutableRawPointer(x + j).storeBytes(of: y, as: SIMD8<Float>.self)
            j += 8
        }
        while j < width { x[j] = (x[j] - mean) * scale * weight[j] + bias[j]; j += 1 }
    }
}
