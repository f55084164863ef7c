import Foundation

/// The shape of a BERT encoder (all-MiniLM-L6-v2's values are the defaults).
struct BertConfiguration: Sendable {
    var vocabularySize = 30522
    var hiddenSize = 384
    var layers = 6
    var heads = 12
    var intermediateSize = 1536
    var maxPositions = 512
    var typeVocabularySize = 2
    var layerNormEpsilon: Float = 1e-12

    var headSize: Int { hiddenSize / heads }
}

/// One transformer layer's parameters.
struct BertLayerWeights: Sendable {
    /// Query, key and value fused into one `[3·hidden, hidden]` layer (one matrix multiply instead of three).
    let queryKeyValue: DenseLayer
    let attentionOutput: DenseLayer
    let attentionNormWeight: [Float]
    let attentionNormBias: [Float]
    let intermediate: DenseLayer
    let output: DenseLayer
    let outputNormWeight: [Float]
    let outputNormBias: [Float]
}

/// All parameters of the encoder, read from `model.safetensors` (Hugging Face `BertModel` tensor names; the
/// pooler is not used by sentence-transformers' mean pooling and is not loaded).
struct MiniLMWeights: Sendable {
    let configuration: BertConfiguration
    /// Left in the mapped file: a query touches a few of its 30 522 rows.
    let wordEmbeddings: MappedFloats
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    let embeddingNormWeight: [Float]
    let embeddingNormBias: [Float]
    let layers: [BertLayerWeights]

    init(file: SafeTensorsFile, configuration c: BertConfiguration, layout: WeightLayout) throws {
        configuration = c
        let h = c.hiddenSize
        wordEmbeddings = try file.mappedFloats("embeddings.word_embeddings.weight", shape: [c.vocabularySize, h])
        positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [c.maxPositions, h])
        tokenTypeEmbeddings = try file.floats("embeddings.token_type_embeddings.weight",
                                              shape: [c.typeVocabularySize, h])
        embeddingNormWeight = try file.floats("embeddings.LayerNorm.weight", shape: [h])
        embeddingNormBias = try file.floats("embeddings.LayerNorm.bias", shape: [h])

        func dense(_ prefix: String, out: Int, in inFeatures: Int, layout: WeightLayout) throws -> DenseLayer {
            let bias = try file.floats(prefix + ".bias", shape: [out])
            if layout == .int8Panels || layout == .vnniPanels {
                // Quantised from the mapped file: the 42 MB of float weights are never copied (cold start).
                return DenseLayer(quantizing: try file.mappedFloats(prefix + ".weight", shape: [out, inFeatures]),
                                  bias: bias, outFeatures: out, inFeatures: inFeatures, layout: layout)
            }
            return DenseLayer(weight: try file.floats(prefix + ".weight", shape: [out, inFeatures]), bias: bias,
                              outFeatures: out, inFeatures: inFeatures, layout: layout)
        }
        // Q, K and V are fused into one layer: int8 parts stack panel by panel when each fills whole panels,
        // otherwise the float weights are concatenated first.
        let stackInt8 = (layout == .int8Panels || layout == .vnniPanels) && h % Int8GEMM.panelWidth == 0
        var layers: [BertLayerWeights] = []
        for i in 0..<c.layers {
            let p = "encoder.layer.\(i)."
            let partLayout: WeightLayout = stackInt8 ? layout : .rowMajor
            let q = try dense(p + "attention.self.query", out: h, in: h, layout: partLayout)
            let k = try dense(p + "attention.self.key", out: h, in: h, layout: partLayout)
            let v = try dense(p + "attention.self.value", out: h, in: h, layout: partLayout)
            layers.append(BertLayerWeights(
                queryKeyValue: stackInt8 ? DenseLayer.stackedInt8([q, k, v]) : DenseLayer.fused([q, k, v], layout: layout),
                attentionOutput: try dense(p + "attention.output.dense", out: h, in: h, layout: layout),
                attentionNormWeight: try file.floats(p + "attention.output.LayerNorm.weight", shape: [h]),
                attentionNormBias: try file.floats(p + "attention.output.LayerNorm.bias", shape: [h]),
                intermediate: try dense(p + "intermediate.dense", out: c.intermediateSize, in: h,
                                        layout: layout),
                output: try dense(p + "output.dense", out: h, in: c.intermediateSize, layout: layout),
                outputNormWeight: try file.floats(p + "output.LayerNorm.weight", shape: [h]),
                outputNormBias: try file.floats(p + "output.LayerNorm.bias", shape: [h])))
        }
        self.layers = layers
    }
}
