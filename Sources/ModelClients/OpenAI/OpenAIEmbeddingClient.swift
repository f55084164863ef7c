import Foundation
import Logging
import OutgoingHTTP

/// An ``Embedder`` over the OpenAI embeddings API: Azure OpenAI (both URL styles) and OpenAI-compatible
/// servers (OpenAI, Ollama, vLLM, TEI).
///
/// Texts are sent in batches of at most ``batchSize`` (Azure accepts 2048, local servers usually 32); a
/// server that still answers "batch too large" (TEI's 413/422) gets the batch in halves. Results are put
/// back in order by `data[].index`, checked for count and ``dimension``, and L2-normalised.
public struct OpenAIEmbeddingClient: Embedder {
    /// The name recorded in partition manifests, e.g. `azure-openai/text-embedding-3-small@512`.
    public let model: String
    public let dimension: Int
    /// The model (or Azure v1 deployment) name sent in the body where the endpoint needs one.
    public let requestModel: String
    public let endpoint: OpenAIEndpoint
    /// Send `dimensions` in the request (text-embedding-3 and later; Ollama and ada-002 reject or ignore it).
    public let sendDimensions: Bool
    public let batchSize: Int
    private let auth: ModelAuth
    private let http: RetryingHTTPClient

    /// - Parameters:
    ///   - endpoint: where the API lives.
    ///   - requestModel: model name for the body (Azure v1: the deployment name; ignored for Azure deployment URLs).
    ///   - dimension: the length of the vectors; a response of any other length is an error.
    ///   - sendDimensions: ask the server for `dimension`-long vectors (`dimensions` field).
    ///   - batchSize: most inputs per request.
    ///   - modelName: what ``model`` reports; defaults to a name built from the family, model and dimension.
    public init(
        endpoint: OpenAIEndpoint, auth: ModelAuth, requestModel: String, dimension: Int,
        sendDimensions: Bool, batchSize: Int, modelName: String? = nil,
        transport: any HTTPTransport = AsyncHTTPTransport.shared, retry: RetryPolicy = RetryPolicy(),
        timeout: TimeInterval = 60, logger: Logger = Logger(label: "ModelClients.embeddings")
    ) {
        self.endpoint = endpoint
        self.auth = auth
        self.requestModel = requestModel
        self.dimension = dimension
        self.sendDimensions = sendDimensions
        self.batchSize = max(1, batchSize)
        let family = endpoint.isAzure ? "azure-openai" : "openai"
        self.model = modelName ?? "\(family)/\(requestModel)@\(dimension)"
        self.http = RetryingHTTPClient(provider: endpoint.describe(model: requestModel), transport: transport,
                                       retry: retry, timeout: timeout, logger: logger)
    }

    public func embed(_ texts: [String], purpose: EmbeddingPurpose) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + batchSize)
            vectors += try await embedBatch(Array(texts[start..<end]))
            start = end
        }
        return vectors
    }

    /// One request (or, if the server says the batch is too large, two halves recursively).
    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        // Embedding APIs reject empty strings; a single space embeds "nothing" without failing the call.
        let inputs = texts.map { $0.isEmpty ? " " : $0 }
        // No `encoding_format`: float is every server's default and Ollama does not support the field.
        var body: [String: Any] = ["input": inputs]
        if endpoint.modelInBody { body["model"] = requestModel }
        if sendDimensions { body["dimensions"] = dimension }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let auth = self.auth
        let response = try await http.postJSON(url: endpoint.url(.embeddings), body: data) {
            try await auth.headers()
        }
        if (200..<300).contains(response.status) {
            return try decode(response, expectedCount: texts.count)
        }
        if Self.isBatchTooLarge(response), texts.count > 1 {
            http.logger.warning("embedding batch too large for the server, splitting", metadata: [
                "provider": "\(http.provider)", "batch": "\(texts.count)",
            ])
            let half = texts.count / 2
            return try await embedBatch(Array(texts[..<half])) + embedBatch(Array(texts[half...]))
        }
        throw OpenAIErrorMapping.error(for: response, provider: http.provider)
    }

    private static func isBatchTooLarge(_ response: HTTPResponse) -> Bool {
        guard response.status == 413 || response.status == 422 else { return false }
        let message = (OpenAIErrorBody.message(in: response.body) ?? "").lowercased()
        return response.status == 413 || message.contains("batch size")
    }

    private struct EmbeddingsResponse: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]
        }
        var data: [Item]
    }

    private func decode(_ response: HTTPResponse, expectedCount: Int) throws -> [[Float]] {
        let provider = http.provider
        let decoded: EmbeddingsResponse
        do {
            decoded = try JSONDecoder().decode(EmbeddingsResponse.self, from: response.body)
        } catch {
            throw ModelClientError.malformedResponse(
                provider: provider,
                detail: "embeddings response is not the expected JSON (\(error)); body starts: \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        guard decoded.data.count == expectedCount else {
            throw ModelClientError.malformedResponse(
                provider: provider, detail: "sent \(expectedCount) inputs but got \(decoded.data.count) embeddings")
        }
        var ordered = [[Float]?](repeating: nil, count: expectedCount)
        for item in decoded.data {
            guard (0..<expectedCount).contains(item.index), ordered[item.index] == nil else {
                throw ModelClientError.malformedResponse(
                    provider: provider, detail: "embedding index \(item.index) is out of range or repeated")
            }
            guard item.embedding.count == dimension else {
                throw ModelClientError.malformedResponse(
                    provider: provider,
                    detail: "got \(item.embedding.count)-dimensional vectors but \(dimension) are configured; set the embedding dimensions setting to the model's real size (or enable sending `dimensions` for text-embedding-3 models)")
            }
            guard item.embedding.allSatisfy(\.isFinite) else {
                throw ModelClientError.malformedResponse(provider: provider, detail: "embedding \(item.index) has non-finite values")
            }
            ordered[item.index] = l2Normalized(item.embedding)
        }
        return ordered.compactMap { $0 }
    }
}
