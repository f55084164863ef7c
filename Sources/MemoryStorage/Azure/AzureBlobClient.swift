import Foundation
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One Blob REST request, relative to the container.
struct AzureRequest: Sendable {
    var method: String
    /// The blob name, or `nil` for a container-level request.
    var blob: String?
    /// Query parameters, unencoded, in order.
    var query: [(String, String)] = []
    /// Extra headers (conditions, blob type, ranges...). `x-ms-date`, `x-ms-version` and auth are added.
    var headers: [String: String] = [:]
    /// The body, sent as `application/octet-stream` unless `Content-Type` is set. `nil` = no body.
    var body: Data?
}

/// The answer to an ``AzureRequest``.
struct AzureResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// `x-ms-error-code`, or the `<Code>` of the XML error body.
    var errorCode: String {
        header("x-ms-error-code") ?? Self.xmlElement("Code", in: body) ?? "HTTP\(status)"
    }

    /// The `<Message>` of the XML error body (first line), or a short description of the status.
    var errorMessage: String {
        if let message = Self.xmlElement("Message", in: body) {
            return String(message.split(separator: "\n").first ?? Substring(message))
        }
        return HTTPURLResponse.localizedString(forStatusCode: status)
    }

    private static func xmlElement(_ name: String, in data: Data) -> String? {
        let text = String(decoding: data.prefix(8192), as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}

/// What a send produced, with whether an earlier try of the same request may have been applied by the server
/// (its answer was lost or was a 500/503): a conflict on a retried write may be our own earlier try.
struct AzureSendResult: Sendable {
    var response: AzureResponse
    var earlierAttemptMayHaveLanded: Bool
}

/// Sends Blob REST requests for one container: builds URLs (path-style or virtual-host), adds the common headers
/// and credentials, and retries transient failures per ``AzureRetryPolicy``.
struct AzureBlobClient: Sendable {
    static let apiVersion = "2021-08-06"

    let settings: AzureStorageSettings
    let container: String
    let authorizer: AzureAuthorizer
    let retry: AzureRetryPolicy
    let session: URLSession
    let logger: Logger

    /// Characters left unencoded in query values (RFC 3986 unreserved); everything else, `+` included, is
    /// percent-encoded so that Azure and the signature see the same value.
    private static let queryValueAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Blob names are `[A-Za-z0-9._/-]`, so the path needs no encoding beyond what this set keeps.
    private static let pathAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")

    func url(for request: AzureRequest) -> URL? {
        var path = settings.blobEndpoint.absoluteString + "/" + container
        if let blob = request.blob {
            path += "/" + (blob.addingPercentEncoding(withAllowedCharacters: Self.pathAllowed) ?? blob)
        }
        let query = request.query.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: Self.queryValueAllowed) ?? value)
        }.joined(separator: "&")
        let full = authorizer.query(query)
        return URL(string: full.isEmpty ? path : path + "?" + full)
    }

    /// Sends `request`, retrying transient failures. `subject` names the blob (or container) in errors.
    /// - Throws: ``BlobStoreError/unavailable(name:message:)`` when every try failed.
    func send(_ request: AzureRequest, subject: String) async throws -> AzureSendResult {
        guard let url = url(for: request) else {
            throw BlobStoreError.invalidName(subject)
        }
        var ambiguous = false
        var lastProblem = ""
        for attempt in 1...retry.maxAttempts {
            if attempt > 1 {
                let pause = retry.delay(afterAttempt: attempt - 1)
                logger.warning("retrying blob request", metadata: [
                    "blob": "\(subject)", "container": "\(container)", "method": "\(request.method)",
                    "attempt": "\(attempt)", "of": "\(retry.maxAttempts)", "after": "\(lastProblem)",
                    "pause_s": "\(String(format: "%.2f", pause.timeInterval))",
                ])
                try? await Task.sleep(for: pause)
            }
            do {
                let response = try await sendOnce(request, url: url)
                if AzureRetryPolicy.retryableStatuses.contains(response.status) {
                    lastProblem = "HTTP \(response.status) \(response.errorCode)"
                    ambiguous = ambiguous || request.method != "GET" && request.method != "HEAD"
                    if attempt < retry.maxAttempts { continue }
                    throw BlobStoreError.unavailable(name: subject, message: "\(request.method) failed after "
                        + "\(attempt) tries; last: \(lastProblem): \(response.errorMessage). The storage account "
                        + "is throttling or unhealthy; check its status and the request rate")
                }
                return AzureSendResult(response: response, earlierAttemptMayHaveLanded: ambiguous)
            } catch let error as URLError {
                lastProblem = describe(error)
                guard AzureRetryPolicy.isRetryable(error) else {
                    throw BlobStoreError.unavailable(name: subject, message: "\(request.method) \(redacted(url)) "
                        + "failed: \(lastProblem)")
                }
                ambiguous = ambiguous || request.method != "GET" && request.method != "HEAD"
                if attempt == retry.maxAttempts {
                    throw BlobStoreError.unavailable(name: subject, message: "\(request.method) \(redacted(url)) "
                        + "failed after \(attempt) tries; last: \(lastProblem). Check that the storage endpoint "
                        + "is reachable from this host")
                }
            } catch let error as ManagedIdentityTokenProvider.TokenError {
                // Nothing was sent; the identity endpoint may recover.
                lastProblem = error.description
                if attempt == retry.maxAttempts {
                    throw BlobStoreError.unavailable(name: subject, message: "\(request.method) not sent after "
                        + "\(attempt) tries: \(lastProblem)")
                }
            } catch let error as BlobStoreError {
                throw error
            } catch {
                throw BlobStoreError.unavailable(name: subject, message: "\(request.method) \(redacted(url)) "
                    + "failed: \(error)")
            }
        }
        throw BlobStoreError.unavailable(name: subject, message: "no attempt was made")  // maxAttempts >= 1
    }

    /// One try; a `401` to a Bearer token is tried once more with a freshly fetched token.
    private func sendOnce(_ request: AzureRequest, url: URL) async throws -> AzureResponse {
        let (response, sentHeaders) = try await sendSigned(request, url: url)
        if response.status == 401, await authorizer.refused(headers: sentHeaders) {
            logger.notice("storage refused the managed identity token; fetching a new one",
                          metadata: ["code": "\(response.errorCode)"])
            return try await sendSigned(request, url: url).0
        }
        return response
    }

    private func sendSigned(_ request: AzureRequest, url: URL) async throws -> (AzureResponse, [String: String]) {
        var headers = request.headers
        headers["x-ms-version"] = Self.apiVersion
        headers["x-ms-date"] = HTTPDate.format(Date())
        headers["x-ms-client-request-id"] = UUID().uuidString.lowercased()
        if let body = request.body {
            headers["Content-Length"] = String(body.count)
            if headers["Content-Type"] == nil, !body.isEmpty { headers["Content-Type"] = "application/octet-stream" }
        } else if request.method == "PUT" || request.method == "POST" {
            headers["Content-Length"] = "0"
        }
        try await authorizer.authorize(method: request.method, url: url, headers: &headers)
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData,
                                    timeoutInterval: retry.requestTimeout.timeInterval)
        urlRequest.httpMethod = request.method
        for (name, value) in headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if let body = request.body, !body.isEmpty {
            urlRequest.httpBody = body
        } else if request.method == "PUT" {
            urlRequest.httpBody = Data()
        }
        let (data, response) = try await session.data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var lowered: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { lowered[k.lowercased()] = v }
        }
        return (AzureResponse(status: http.statusCode, headers: lowered, body: data), headers)
    }

    /// A transport failure in words for the person on call.
    func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut:
            return "no answer within \(Int(retry.requestTimeout.timeInterval)) s (request timeout)"
        case .cannotConnectToHost: return "connection refused"
        case .networkConnectionLost: return "connection lost"
        case .cannotFindHost, .dnsLookupFailed: return "host name not found"
        case .badServerResponse: return "invalid or empty answer"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "TLS failure (\(error.localizedDescription))"
        default:
            return "transport error \(error.code.rawValue) (\(error.localizedDescription))"
        }
    }

    /// The URL without its query (which may hold a SAS signature), for error messages and logs.
    func redacted(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        return components?.string ?? "(url)"
    }
}
