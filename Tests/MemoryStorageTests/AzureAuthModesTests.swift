import Foundation
import Logging
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MemoryStorage

/// SAS (from a connection string and from an account URL), managed-identity tokens, and the startup check
/// `verifyAccess`, against the test server (which verifies SAS signatures and permissions).
@Suite struct AzureAuthModesTests {
    let server: AzureTestServer

    init() throws {
        server = try AzureTestServer()
    }

    @Test func sasFromAConnectionStringAndFromAnAccountURL() async throws {
        let sas = AzureTestServer.accountSAS(permissions: "racwdl")
        let container = AzureTestServer.uniqueContainer()
        let viaConnectionString = try server.store(
            container: container, setting: "BlobEndpoint=\(server.blobEndpoint);SharedAccessSignature=\(sas)")
        #expect(viaConnectionString.settings.credential == .sharedAccessSignature(sas))
        try await viaConnectionString.createAppendBlob("log", condition: .ifNoneMatchAny)
        try await viaConnectionString.appendBlock("log", data: Data("abc".utf8), expectedPosition: 0)
        let viaURL = try server.store(container: container, setting: "\(server.blobEndpoint)?\(sas)")
        #expect(try await viaURL.get("log").data == Data("abc".utf8))
        #expect(try await viaURL.listAll(prefix: "").map(\.name) == ["log"])
        try await viaURL.delete("log", condition: .none)
    }

    @Test func aReadOnlyOrForgedSASIsPermissionDenied() async throws {
        let container = AzureTestServer.uniqueContainer()
        try await server.store(container: container).put("readme", data: Data("hi".utf8), condition: .none)
        let readOnly = try server.store(container: container,
                                        setting: "\(server.blobEndpoint)?\(AzureTestServer.accountSAS(permissions: "rl"))")
        #expect(try await readOnly.get("readme").data == Data("hi".utf8))
        do {
            try await readOnly.put("new", data: Data("x".utf8), condition: .none)
            Issue.record("a read-only SAS could write")
        } catch BlobStoreError.permissionDenied(_, let code, let message) {
            #expect(code == "AuthorizationPermissionMismatch")
            #expect(message.contains("racwdl"))
        }
        let forged = AzureTestServer.accountSAS(permissions: "rl").replacingOccurrences(of: "sp=rl", with: "sp=racwdl")
        let forgedStore = try server.store(container: container, setting: "\(server.blobEndpoint)?\(forged)")
        await #expect(throws: BlobStoreError.self) { try await forgedStore.get("readme") }
        do {
            _ = try await forgedStore.get("readme")
        } catch BlobStoreError.permissionDenied(_, let code, _) {
            #expect(code == "AuthenticationFailed")
        }
    }

    @Test func verifyAccessCreatesAMissingContainerAndProbesWrites() async throws {
        let store = try server.store()
        try await store.verifyAccess()
        let ops = try await server.requests().map(\.op)
        #expect(ops.contains("createcontainer"))
        #expect(ops.contains("putblob") && ops.contains("delete"))
        #expect(try await store.listAll(prefix: "").isEmpty, "the probe blob is removed")
        try await store.verifyAccess()  // an existing container is fine
    }

    @Test func verifyAccessExplainsMissingPermissions() async throws {
        let container = AzureTestServer.uniqueContainer()
        let readOnly = try server.store(container: container,
                                        setting: "\(server.blobEndpoint)?\(AzureTestServer.accountSAS(permissions: "rl"))")
        do {
            try await readOnly.verifyAccess()
            Issue.record("a read-only SAS passed the check for a missing container")
        } catch let error as AzureAccessError {
            #expect(error.description.contains("create container '\(container)'"), "\(error)")
            #expect(error.description.contains("racwdl"), "\(error)")
        }
        try await server.store(container: container).verifyAccess()
        try await readOnly.verifyAccess(requireWrite: false)
        do {
            try await readOnly.verifyAccess(requireWrite: true)
            Issue.record("a read-only SAS passed the write check")
        } catch let error as AzureAccessError {
            #expect(error.description.contains("write and delete a probe blob"), "\(error)")
        }
        let wrongKey = try server.store(container: container,
                                        setting: server.connectionString(key: AzureTestServer.wrongKey))
        do {
            try await wrongKey.verifyAccess()
            Issue.record("a wrong key passed the check")
        } catch let error as AzureAccessError {
            #expect(error.description.contains("AuthenticationFailed"), "\(error)")
            #expect(error.description.contains("account key"), "\(error)")
        }
    }

    @Test func managedIdentityTokensAreFetchedOnceAndCached() async throws {
        try await server.configureIdentity(secret: "s3cret", lifetime: 3600)
        let provider = try ManagedIdentityTokenProvider.fromEnvironment(
            ["IDENTITY_ENDPOINT": "\(server.baseURL)/__identity/token", "IDENTITY_HEADER": "s3cret"],
            logger: Logger(label: "test"))
        let first = try await provider.token()
        let second = try await provider.token()
        #expect(first == second)
        #expect(first.value.hasPrefix("mi-token-1-"))
        #expect(abs(first.expiresOn.timeIntervalSinceNow - 3600) < 120)
        #expect(try await server.identityFetches() == 1)
        // The authorizer sends it as a Bearer token.
        var headers: [String: String] = [:]
        let url = try #require(URL(string: "https://acct.blob.core.windows.net/memory/x"))
        try await AzureAuthorizer(mode: .bearer(provider)).authorize(method: "GET", url: url, headers: &headers)
        #expect(headers["Authorization"] == "Bearer \(first.value)")
        #expect(try await server.identityFetches() == 1)
    }

    @Test func tokensCloseToExpiryAreRefreshed() async throws {
        try await server.configureIdentity(secret: "s3cret", lifetime: 120)  // inside the 5-minute margin
        let provider = ManagedIdentityTokenProvider(
            endpoint: try #require(URL(string: "\(server.baseURL)/__identity/token")), secret: "s3cret")
        let first = try await provider.token()
        let second = try await provider.token()
        #expect(first.value != second.value)
        #expect(try await server.identityFetches() == 2)
        try await server.configureIdentity(secret: "s3cret", lifetime: 3600)
        let third = try await provider.token()
        _ = try await provider.token()
        #expect(third.value != second.value)
        #expect(try await server.identityFetches() == 3)
    }

    @Test func bearerTokensAuthorizeBlobRequestsAndARefusedTokenIsReplaced() async throws {
        try await server.configureIdentity(secret: "s3cret", lifetime: 3600)
        let provider = ManagedIdentityTokenProvider(
            endpoint: try #require(URL(string: "\(server.baseURL)/__identity/token")), secret: "s3cret")
        let settings = AzureStorageSettings(blobEndpoint: try #require(URL(string: server.blobEndpoint)),
                                            accountName: AzureTestServer.account, credential: .managedIdentity)
        // The public initializers refuse Bearer over HTTP; the test server only speaks HTTP.
        let store = AzureBlobStore(settings: settings, container: AzureTestServer.uniqueContainer(),
                                   authorizer: AzureAuthorizer(mode: .bearer(provider)), logger: Logger(label: "test"),
                                   retry: AzureTestServer.fastRetry)
        try await store.put("doc", data: Data("by token".utf8), condition: .none)
        #expect(try await store.get("doc").data == Data("by token".utf8))
        #expect(try await server.identityFetches() == 1)
        try await server.configureIdentity(secret: "s3cret", lifetime: 3600, revoke: true)
        #expect(try await store.get("doc").data == Data("by token".utf8))
        #expect(try await server.identityFetches() == 2)
        let statuses = try await server.requests().filter { $0.op == "get" }.map(\.status)
        #expect(statuses == [200, 401, 200])
    }

    @Test func aWrongIdentitySecretGivesAClearError() async throws {
        let provider = ManagedIdentityTokenProvider(
            endpoint: try #require(URL(string: "\(server.baseURL)/__identity/token")), secret: "wrong")
        do {
            _ = try await provider.token()
            Issue.record("a wrong secret got a token")
        } catch let error as ManagedIdentityTokenProvider.TokenError {
            #expect(error.description.contains("HTTP 401"), "\(error)")
        }
    }

    @Test func bearerTokensAreNeverSentOverPlainHTTP() {
        #expect(throws: AzureSettingsError.bearerRequiresHTTPS(url: server.blobEndpoint)) {
            try AzureBlobStore.make(setting: server.blobEndpoint, container: "memory", logger: Logger(label: "test"),
                                    environment: ["IDENTITY_ENDPOINT": "\(server.baseURL)/__identity/token",
                                                  "IDENTITY_HEADER": "s3cret"])
        }
    }
}
