import Foundation
import Logging
import OutgoingHTTP

/// A ``BlobStore`` on an Azure Storage container over the Blob REST API (x-ms-version 2021-08-06), with
/// SharedKey, SAS or managed-identity auth, retries with backoff, and exactly-once appends.
///
/// The container is created on first need (when a request finds it missing) or by ``verifyAccess(requireWrite:)``
/// at startup. Build one with ``make(setting:container:logger:retry:environment:transport:)``.
public struct AzureBlobStore: BlobStore {
    let client: AzureBlobClient
    private let containerGate: ContainerCreationGate

    /// The largest block one append may carry at x-ms-version 2021-08-06 (4 MiB; 100 MiB needs 2022-11-02).
    public static let maxAppendBlockSize = 4 * 1024 * 1024
    public var maxAppendBlockBytes: Int { Self.maxAppendBlockSize }

    /// The container this store reads and writes.
    public var container: String { client.container }
    /// The parsed endpoint and credential kind.
    public var settings: AzureStorageSettings { client.settings }

    /// Builds a store from `MEMORY_STORAGE`-style `setting`: a connection string, or an account URL with a SAS
    /// query, or an account URL alone for managed identity (read from `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` in
    /// `environment`). Without `retry`, the policy comes from `environment`
    /// (``AzureRetryPolicy/fromEnvironment(_:)``: `MEMORY_STORAGE_TIMEOUT_SECONDS`, `MEMORY_STORAGE_DEADLINE_SECONDS`).
    /// Makes no request.
    /// - Throws: ``AzureSettingsError`` naming what is wrong with the setting, the container name or a timeout.
    public static func make(setting: String, container: String, logger: Logger,
                            retry: AzureRetryPolicy? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            transport: any HTTPTransport = AsyncHTTPTransport.shared) throws -> AzureBlobStore {
        let settings = try AzureStorageSettings.parse(setting)
        return try AzureBlobStore(settings: settings, container: container, logger: logger,
                                  retry: try retry ?? AzureRetryPolicy.fromEnvironment(environment),
                                  environment: environment, transport: transport)
    }

    /// Builds a store from parsed settings. See ``make(setting:container:logger:retry:environment:transport:)``.
    public init(settings: AzureStorageSettings, container: String, logger: Logger,
                retry: AzureRetryPolicy = .standard,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: any HTTPTransport = AsyncHTTPTransport.shared) throws {
        guard Self.isValidContainerName(container) else { throw AzureSettingsError.invalidContainerName(container) }
        let mode: AzureAuthorizer.Mode
        switch settings.credential {
        case .sharedKey(let key):
            mode = .sharedKey(try SharedKeySigner(accountName: settings.accountName, base64Key: key))
        case .sharedAccessSignature(let sas):
            mode = .sas(sas)
        case .managedIdentity:
            guard settings.blobEndpoint.scheme?.lowercased() == "https" else {
                throw AzureSettingsError.bearerRequiresHTTPS(url: settings.blobEndpoint.absoluteString)
            }
            mode = .bearer(try ManagedIdentityTokenProvider.fromEnvironment(environment, transport: transport,
                                                                              logger: logger))
        }
        self.init(settings: settings, container: container, authorizer: AzureAuthorizer(mode: mode), logger: logger,
                  retry: retry, transport: transport)
    }

    /// Builds a store with an explicit authorizer, skipping the HTTPS check for Bearer tokens: tests use it to run
    /// managed-identity auth against the plain-HTTP test server.
    init(settings: AzureStorageSettings, container: String, authorizer: AzureAuthorizer, logger: Logger,
         retry: AzureRetryPolicy, transport: any HTTPTransport = AsyncHTTPTransport.shared) {
        var logger = logger
        logger[metadataKey: "container"] = "\(container)"
        logger[metadataKey: "account"] = "\(settings.accountName)"
        client = AzureBlobClient(settings: settings, container: container, authorizer: authorizer, retry: retry,
                                 transport: transport, logger: logger)
        containerGate = ContainerCreationGate()
    }

    /// Azure's container naming rule: 3-63 of `[a-z0-9-]`, starting with a letter or digit, no `--`, not ending in `-`.
    public static func isValidContainerName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), !name.contains("--"), !name.hasSuffix("-"), !name.hasPrefix("-") else {
            return false
        }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }

    // MARK: BlobStore

    public func get(_ name: String, range: Range<Int>?) async throws -> BlobContent {
        try Self.validate(name)
        var request = AzureRequest(method: "GET", blob: name, promisedHeaders: ["etag"])
        if let range {
            guard range.lowerBound >= 0 else { throw BlobStoreError.invalidRange(name: name, size: 0) }
            if range.isEmpty {
                // Azure has no empty ranges; the folder store rejects them too.
                throw BlobStoreError.invalidRange(name: name, size: try await properties(name).size)
            }
            request.headers["x-ms-range"] = "bytes=\(range.lowerBound)-\(range.upperBound - 1)"
        }
        let response = try await run(request, name: name)
        guard let etag = response.header("etag") else {
            throw BlobStoreError.unavailable(name: name, message: "GET answered without an ETag")
        }
        let total = AzureErrorMapping.totalSize(fromContentRange: response.header("content-range"))
            ?? Int(response.header("content-length") ?? "") ?? response.body.count
        return BlobContent(data: response.body, etag: ETag(etag), totalSize: total)
    }

    public func properties(_ name: String) async throws -> BlobProperties {
        try Self.validate(name)
        let response = try await run(AzureRequest(method: "HEAD", blob: name,
                                                  promisedHeaders: ["etag", "content-length"]), name: name)
        return try Self.properties(name: name, from: response)
    }

    @discardableResult
    public func put(_ name: String, data: Data, condition: WriteCondition) async throws -> ETag {
        try Self.validate(name)
        var request = AzureRequest(method: "PUT", blob: name, body: data, promisedHeaders: ["etag"])
        request.headers["x-ms-blob-type"] = BlobKind.block.rawValue
        Self.apply(condition, to: &request)
        do {
            let (response, _) = try await runReportingAmbiguity(request, name: name, condition: condition)
            return try Self.etag(name, response)
        } catch let error as AmbiguousConflict {
            // A try whose answer was lost may have written our bytes already: if the blob now holds exactly them,
            // that write was ours.
            if let current = try? await get(name, range: nil), current.data == data {
                client.logger.info("a retried put found its own earlier write", metadata: ["blob": "\(name)"])
                return current.etag
            }
            throw error.underlying
        }
    }

    @discardableResult
    public func createAppendBlob(_ name: String, condition: WriteCondition) async throws -> ETag {
        try Self.validate(name)
        var request = AzureRequest(method: "PUT", blob: name, promisedHeaders: ["etag"])
        request.headers["x-ms-blob-type"] = BlobKind.append.rawValue
        Self.apply(condition, to: &request)
        do {
            let (response, _) = try await runReportingAmbiguity(request, name: name, condition: condition)
            return try Self.etag(name, response)
        } catch let error as AmbiguousConflict {
            if let props = try? await properties(name), props.kind == .append, props.size == 0, !props.isSealed {
                client.logger.info("a retried create found its own earlier append blob", metadata: ["blob": "\(name)"])
                return props.etag
            }
            throw error.underlying
        }
    }

    @discardableResult
    public func appendBlock(_ name: String, data: Data, expectedPosition: Int?) async throws -> AppendResult {
        try await appendBlock(name, data: data, expectedPosition: expectedPosition, maxSize: nil)
    }

    /// ``appendBlock(_:data:expectedPosition:)`` with Azure's `x-ms-blob-condition-maxsize`: fails with
    /// ``BlobStoreError/conditionNotMet(name:)`` if the blob would grow past `maxSize` bytes.
    @discardableResult
    public func appendBlock(_ name: String, data: Data, expectedPosition: Int?, maxSize: Int?) async throws
        -> AppendResult {
        try Self.validate(name)
        guard !data.isEmpty else {
            // Azure rejects empty blocks; answer as the folder store does (checks, then nothing appended).
            let props = try await properties(name)
            guard props.kind == .append else { throw BlobStoreError.wrongBlobType(name: name) }
            guard !props.isSealed else { throw BlobStoreError.sealed(name: name) }
            if let expectedPosition, expectedPosition != props.size {
                throw BlobStoreError.appendPositionMismatch(name: name, expected: expectedPosition, actualLength: props.size)
            }
            return AppendResult(offset: props.size, etag: props.etag)
        }
        guard data.count <= Self.maxAppendBlockSize else {
            throw BlobStoreError.unavailable(name: name, message: "a block of \(data.count) bytes exceeds Azure's "
                + "append limit of \(Self.maxAppendBlockSize) bytes at x-ms-version \(AzureBlobClient.apiVersion); "
                + "split the write")
        }
        var request = AzureRequest(method: "PUT", blob: name, query: [("comp", "appendblock")], body: data,
                                   promisedHeaders: ["etag", "x-ms-blob-append-offset"])
        if let expectedPosition { request.headers["x-ms-blob-condition-appendpos"] = String(expectedPosition) }
        if let maxSize { request.headers["x-ms-blob-condition-maxsize"] = String(maxSize) }
        do {
            let response = try await run(request, name: name, expectedPosition: expectedPosition)
            guard let offset = response.header("x-ms-blob-append-offset").flatMap({ Int($0) }) else {
                throw BlobStoreError.unavailable(name: name, message: "append answered without x-ms-blob-append-offset")
            }
            return AppendResult(offset: offset, etag: try Self.etag(name, response))
        } catch BlobStoreError.appendPositionMismatch(_, let expected, _) {
            return try await recoverAppend(name, data: data, expected: expected)
        }
    }

    /// After `AppendPositionConditionNotMet` at `expected`: if the blob is exactly `expected + data.count` long and
    /// those last bytes are `data`, an earlier try of this append landed (its answer was lost, or the HTTP stack
    /// resent the request) and the append succeeded exactly once. Otherwise another writer moved the end.
    private func recoverAppend(_ name: String, data: Data, expected: Int) async throws -> AppendResult {
        let props = try await properties(name)
        if props.size == expected + data.count {
            let tail = try await get(name, range: expected..<(expected + data.count))
            if tail.data == data {
                client.logger.info("a retried append found its own earlier block", metadata: [
                    "blob": "\(name)", "offset": "\(expected)", "bytes": "\(data.count)"])
                return AppendResult(offset: expected, etag: tail.etag)
            }
        }
        throw BlobStoreError.appendPositionMismatch(name: name, expected: expected, actualLength: props.size)
    }

    public func seal(_ name: String) async throws {
        try Self.validate(name)
        _ = try await run(AzureRequest(method: "PUT", blob: name, query: [("comp", "seal")]), name: name)
    }

    public func list(prefix: String, marker: String?, maxResults: Int) async throws -> BlobListPage {
        guard prefix.allSatisfy(Self.isNameCharacter) else { throw BlobStoreError.invalidName(prefix) }
        var query = [("restype", "container"), ("comp", "list")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let marker, !marker.isEmpty { query.append(("marker", marker)) }
        query.append(("maxresults", String(min(max(maxResults, 1), 5000))))
        let response = try await run(AzureRequest(method: "GET", blob: nil, query: query), name: prefix,
                                     containerMayBeMissing: true)
        if response.status == 404 { return BlobListPage(items: [], nextMarker: nil) }
        do {
            return try BlobListParser.parse(response.body)
        } catch {
            throw BlobStoreError.unavailable(name: prefix, message: "unreadable List Blobs answer: \(error.message)")
        }
    }

    public func delete(_ name: String, condition: WriteCondition) async throws {
        try Self.validate(name)
        var request = AzureRequest(method: "DELETE", blob: name)
        Self.apply(condition, to: &request)
        do {
            _ = try await runReportingAmbiguity(request, name: name, condition: condition)
        } catch let error as AmbiguousConflict {
            // An earlier try whose answer was lost deleted it: 404, or 412 because If-Match found nothing.
            if case .notFound = error.underlying { return }
            do {
                _ = try await properties(name)
            } catch BlobStoreError.notFound {
                return
            } catch {}
            throw error.underlying
        }
    }

    // MARK: Startup check

    /// Checks at startup that the container exists (creating it if missing) and that the credentials can list
    /// it and, with `requireWrite`, write and delete in it (a probe blob `.agentmemory-access-check/<uuid>`).
    /// - Throws: ``AzureAccessError`` saying what to fix.
    public func verifyAccess(requireWrite: Bool = true) async throws {
        let exists: Bool
        do {
            exists = try await containerExists()
        } catch let error as BlobStoreError {
            throw AzureAccessError(step: "read container '\(container)'", underlying: error, settings: settings,
                                   container: container)
        }
        if !exists {
            do {
                try await containerGate.ensure { try await createContainerIfMissing() }
            } catch let error as BlobStoreError {
                throw AzureAccessError(step: "create container '\(container)' (it does not exist)",
                                       underlying: error, settings: settings, container: container)
            }
        }
        do {
            _ = try await list(prefix: "", marker: nil, maxResults: 1)
        } catch let error as BlobStoreError {
            throw AzureAccessError(step: "list container '\(container)'", underlying: error, settings: settings,
                                   container: container)
        }
        guard requireWrite else { return }
        let probe = ".agentmemory-access-check/\(UUID().uuidString.lowercased())"
        do {
            try await put(probe, data: Data("ok".utf8), condition: .ifNoneMatchAny)
            try await delete(probe, condition: .none)
        } catch let error as BlobStoreError {
            throw AzureAccessError(step: "write and delete a probe blob in container '\(container)'",
                                   underlying: error, settings: settings, container: container)
        }
    }

    // MARK: Plumbing

    /// A create-only or If-Match write that met a conflict after an earlier try may have landed.
    private struct AmbiguousConflict: Error {
        var underlying: BlobStoreError
    }

    private func runReportingAmbiguity(_ request: AzureRequest, name: String, condition: WriteCondition) async throws
        -> (AzureResponse, Bool) {
        let result = try await sendCreatingContainer(request, name: name)
        let response = result.response
        if (200..<300).contains(response.status) { return (response, result.earlierAttemptMayHaveLanded) }
        let error = AzureErrorMapping.error(for: response, name: name, createOnly: condition == .ifNoneMatchAny)
        if result.earlierAttemptMayHaveLanded {
            switch error {
            case .alreadyExists, .conditionNotMet, .notFound: throw AmbiguousConflict(underlying: error)
            default: break
            }
        }
        throw error
    }

    /// Sends and maps failures to ``BlobStoreError``; returns only 2xx answers (or a 404 on the container when
    /// `containerMayBeMissing`).
    private func run(_ request: AzureRequest, name: String, expectedPosition: Int? = nil,
                     containerMayBeMissing: Bool = false) async throws -> AzureResponse {
        let response = try await sendCreatingContainer(request, name: name).response
        if (200..<300).contains(response.status) { return response }
        if containerMayBeMissing, response.status == 404, response.errorCode == "ContainerNotFound" { return response }
        throw AzureErrorMapping.error(for: response, name: name,
                                      createOnly: request.headers["If-None-Match"] == "*",
                                      expectedPosition: expectedPosition)
    }

    /// Sends; when a write finds the container missing, creates it (once per store) and sends again.
    private func sendCreatingContainer(_ request: AzureRequest, name: String) async throws -> AzureSendResult {
        let first = try await client.send(request, subject: name)
        guard first.response.status == 404, first.response.errorCode == "ContainerNotFound",
              request.method == "PUT" else { return first }
        try await containerGate.ensure { try await createContainerIfMissing() }
        var again = try await client.send(request, subject: name)
        again.earlierAttemptMayHaveLanded = again.earlierAttemptMayHaveLanded || first.earlierAttemptMayHaveLanded
        return again
    }

    /// Get Container Properties: `true` on 200, `false` on 404.
    private func containerExists() async throws -> Bool {
        let request = AzureRequest(method: "HEAD", blob: nil, query: [("restype", "container")])
        let response = try await client.send(request, subject: container).response
        if (200..<300).contains(response.status) { return true }
        if response.status == 404 { return false }
        throw AzureErrorMapping.error(for: response, name: container)
    }

    private func createContainerIfMissing() async throws {
        let request = AzureRequest(method: "PUT", blob: nil, query: [("restype", "container")])
        let response = try await client.send(request, subject: container).response
        switch response.status {
        case 201:
            client.logger.notice("created blob container", metadata: ["container": "\(container)"])
        case 409 where response.errorCode == "ContainerAlreadyExists":
            break
        default:
            throw AzureErrorMapping.error(for: response, name: container)
        }
    }

    private static func apply(_ condition: WriteCondition, to request: inout AzureRequest) {
        switch condition {
        case .none: break
        case .ifMatch(let etag): request.headers["If-Match"] = etag.quoted
        case .ifNoneMatchAny: request.headers["If-None-Match"] = "*"
        }
    }

    private static func etag(_ name: String, _ response: AzureResponse) throws -> ETag {
        guard let value = response.header("etag") else {
            throw BlobStoreError.unavailable(name: name, message: "answer without an ETag (HTTP \(response.status))")
        }
        return ETag(value)
    }

    private static func properties(name: String, from response: AzureResponse) throws -> BlobProperties {
        guard let size = response.header("content-length").flatMap({ Int($0) }) else {
            throw BlobStoreError.unavailable(name: name, message: "properties answered without Content-Length")
        }
        return BlobProperties(
            name: name, size: size, etag: try etag(name, response),
            kind: BlobKind(rawValue: response.header("x-ms-blob-type") ?? "") ?? .block,
            isSealed: response.header("x-ms-blob-sealed")?.lowercased() == "true",
            lastModified: response.header("last-modified").flatMap(HTTPDate.parse) ?? Date(timeIntervalSince1970: 0))
    }

    private static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "/" || c == "-")
    }

    /// Names are `/`-separated segments of `[A-Za-z0-9._-]`, none empty, `.` or `..`.
    static func validate(_ name: String) throws {
        guard !name.isEmpty, name.count <= 1024, name.allSatisfy(isNameCharacter) else {
            throw BlobStoreError.invalidName(name)
        }
        for segment in name.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." { throw BlobStoreError.invalidName(name) }
        }
    }
}

/// Creates the container at most once per store, however many requests find it missing at the same time.
actor ContainerCreationGate {
    private var created = false
    private var inFlight: Task<Void, Error>?

    func ensure(_ create: @escaping @Sendable () async throws -> Void) async throws {
        if created { return }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await create() }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
        created = true
    }
}

/// A startup check (``AzureBlobStore/verifyAccess(requireWrite:)``) failed: says which step, why, and what to fix.
public struct AzureAccessError: Error, CustomStringConvertible, Sendable {
    public var step: String
    public var underlying: BlobStoreError
    public var account: String
    public var container: String
    public var credentialKind: String

    init(step: String, underlying: BlobStoreError, settings: AzureStorageSettings, container: String) {
        self.step = step
        self.underlying = underlying
        self.account = settings.accountName
        self.container = container
        switch settings.credential {
        case .sharedKey: credentialKind = "account key"
        case .sharedAccessSignature: credentialKind = "SAS"
        case .managedIdentity: credentialKind = "managed identity"
        }
    }

    public var description: String {
        var fix: String
        switch underlying {
        case .permissionDenied(_, let code, _) where code == "AuthenticationFailed"
            || code == "InvalidAuthenticationInfo" || code == "NoAuthenticationInformation":
            fix = "storage account '\(account)' rejected the \(credentialKind) (\(code)). "
            switch credentialKind {
            case "SAS": fix += "Issue a new SAS (it may have expired) and check the host clock."
            case "managed identity": fix += "Check that the function app's identity is enabled."
            default: fix += "Check that the account key is current (keys may have been rotated) and the host clock."
            }
        case .permissionDenied(_, let code, _):
            fix = "the \(credentialKind) for storage account '\(account)' lacks permission (\(code)). "
            switch credentialKind {
            case "managed identity":
                fix += "Assign the function app's identity the 'Storage Blob Data Contributor' role on the account."
            case "SAS":
                fix += "Issue a SAS with ss=b, srt=co and permissions racwdl (or create the container yourself)."
            default:
                fix += "Check that the account key is current (keys may have been rotated)."
            }
        case .unavailable:
            fix = "the storage endpoint could not be reached or failed; check MEMORY_STORAGE and the network."
        default:
            fix = "unexpected answer from storage account '\(account)'."
        }
        return "storage startup check failed: could not \(step): \(underlying). \(fix)"
    }
}
