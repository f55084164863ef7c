import Foundation
import Logging
import OutgoingHTTP

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
    /// Headers (lowercased) that the protocol promises on a successful (2xx) answer, such as `etag` on a write.
    /// A 2xx answer without one of them is incomplete: it is treated as a lost answer and retried, like a reset.
    var promisedHeaders: [String] = []
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
        return "HTTP \(status)"
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
/// and credentials, and retries transient failures per ``AzureRetryPolicy`` within its per-attempt timeout and
/// per-operation deadline.
///
/// Transient: a retryable status (``AzureRetryPolicy/retryableStatuses``), any ``TransportError`` (reset,
/// truncated answer, stall) and a 2xx answer missing a header the protocol promises
/// (``AzureRequest/promisedHeaders``). For a write, each of these may hide an applied request, which
/// ``AzureSendResult/earlierAttemptMayHaveLanded`` reports so the store can recognise its own earlier try.
struct AzureBlobClient: Sendable {
    static let apiVersion = "2021-08-06"

    let settings: AzureStorageSettings
    let container: String
    let authorizer: AzureAuthorizer
    let retry: AzureRetryPolicy
    let transport: any HTTPTransport
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
    /// - Throws: ``BlobStoreError/unavailable(name:message:)`` when every try failed or the deadline passed.
    func send(_ request: AzureRequest, subject: String) async throws -> AzureSendResult {
        guard let url = url(for: request) else {
            throw BlobStoreError.invalidName(subject)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let isWrite = request.method != "GET" && request.method != "HEAD"
        var ambiguous = false
        var lastProblem = ""
        var attempt = 0
        while true {
            attempt += 1
            let remaining = retry.deadline - (clock.now - started)
            if attempt > 1 {
                let pause = retry.delay(afterAttempt: attempt - 1)
                // Give up when the pause would leave less than a tenth of a try before the deadline.
                guard attempt <= retry.maxAttempts, pause + retry.requestTimeout / 10 < remaining else {
                    throw BlobStoreError.unavailable(name: subject, message: "\(request.method) \(redacted(url)) "
                        + "failed after \(attempt - 1) tries in \(Self.seconds(clock.now - started)) s; last: "
                        + "\(lastProblem). \(advice(for: lastProblem))")
                }
                logger.warning("retrying blob request", metadata: [
                    "blob": "\(Self.capped(subject))", "container": "\(container)", "method": "\(request.method)",
                    "attempt": "\(attempt)", "of": "\(retry.maxAttempts)", "after": "\(lastProblem)",
                    "pause_s": "\(Self.seconds(pause))",
                ])
                try await Task.sleep(for: pause)
            }
            let attemptTimeout = min(retry.requestTimeout, retry.deadline - (clock.now - started))
            do {
                let response = try await sendOnce(request, url: url, timeout: attemptTimeout)
                if AzureRetryPolicy.retryableStatuses.contains(response.status) {
                    lastProblem = "HTTP \(response.status) \(response.errorCode): \(response.errorMessage)"
                    ambiguous = ambiguous || isWrite
                    continue
                }
                if (200..<300).contains(response.status),
                   let missing = request.promisedHeaders.first(where: { response.header($0) == nil }) {
                    // An answer cut short of what the protocol promises: it may hide an applied write, exactly
                    // like a lost answer.
                    lastProblem = "HTTP \(response.status) answer without \(missing)"
                    ambiguous = ambiguous || isWrite
                    continue
                }
                return AzureSendResult(response: response, earlierAttemptMayHaveLanded: ambiguous)
            } catch let error as TransportError {
                lastProblem = error.description
                ambiguous = ambiguous || isWrite
            } catch let error as ManagedIdentityTokenProvider.TokenError {
                // Nothing was sent; the identity endpoint may recover.
                lastProblem = error.description
            }
        }
    }

    /// What the person on call should check after the tries ran out.
    private func advice(for problem: String) -> String {
        if problem.hasPrefix("HTTP 503") || problem.hasPrefix("HTTP 500") {
            return "The storage account is throttling or unhealthy; check its status and the request rate"
        }
        return "Check that the storage endpoint is reachable from this host and healthy; the per-try timeout is "
            + "\(Self.seconds(retry.requestTimeout)) s (MEMORY_STORAGE_TIMEOUT_SECONDS) and the per-operation "
            + "deadline \(Self.seconds(retry.deadline)) s (MEMORY_STORAGE_DEADLINE_SECONDS)"
    }

    /// One try; a `401` to a Bearer token is tried once more with a freshly fetched token.
    private func sendOnce(_ request: AzureRequest, url: URL, timeout: Duration) async throws -> AzureResponse {
        let (response, sentHeaders) = try await sendSigned(request, url: url, timeout: timeout)
        if response.status == 401, await authorizer.refused(headers: sentHeaders) {
            logger.notice("storage refused the managed identity token; fetching a new one",
                          metadata: ["code": "\(response.errorCode)"])
            return try await sendSigned(request, url: url, timeout: timeout).0
        }
        return response
    }

    private func sendSigned(_ request: AzureRequest, url: URL, timeout: Duration) async throws
        -> (AzureResponse, [String: String]) {
        var headers = request.headers
        headers["x-ms-version"] = Self.apiVersion
        headers["x-ms-date"] = HTTPDate.format(Date())
        headers["x-ms-client-request-id"] = UUID().uuidString.lowercased()
        let body: Data?
        if let requestBody = request.body {
            body = requestBody
            headers["Content-Length"] = String(requestBody.count)
            if headers["Content-Type"] == nil, !requestBody.isEmpty {
                headers["Content-Type"] = "application/octet-stream"
            }
        } else if request.method == "PUT" || request.method == "POST" {
            // The transport sends `Content-Length: 0` for an empty PUT/POST; the signature must cover it.
            body = Data()
            headers["Content-Length"] = "0"
        } else {
            body = nil
        }
        try await authorizer.authorize(method: request.method, url: url, headers: &headers)
        let response = try await transport.send(HTTPRequest(method: request.method, url: url, headers: headers,
                                                            body: body, timeout: timeout.timeInterval))
        return (AzureResponse(status: response.status, headers: response.headers, body: response.body), headers)
    }

    /// The URL without its query (which may hold a SAS signature), for error messages and logs.
    func redacted(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        return components?.string ?? "(url)"
    }

    /// At most 120 characters of a blob name for logs (names carry hashed ids, but can be long).
    static func capped(_ name: String) -> String {
        name.count <= 120 ? name : String(name.prefix(117)) + "..."
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.timeInterval)
    }
}
