import Foundation
import Logging
import Testing
@testable import MemoryStorage

/// Connection strings and account URLs as `MEMORY_STORAGE` accepts them (reference §2.2), and the errors for
/// malformed ones.
@Suite struct AzureStorageSettingsTests {
    static let key = AzureStorageSettings.developmentAccountKey

    @Test func accountKeyWithEndpointSuffix() throws {
        let s = try AzureStorageSettings.parse(
            "DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=\(Self.key);EndpointSuffix=core.windows.net")
        #expect(s.blobEndpoint.absoluteString == "https://myaccount.blob.core.windows.net")
        #expect(s.accountName == "myaccount")
        #expect(s.credential == .sharedKey(accountKey: Self.key))
        #expect(!s.isPathStyle)
    }

    @Test func protocolAndSuffixDefaultAndKeysAreCaseInsensitive() throws {
        let s = try AzureStorageSettings.parse("accountname=acct;ACCOUNTKEY=\(Self.key);")
        #expect(s.blobEndpoint.absoluteString == "https://acct.blob.core.windows.net")
        #expect(s.credential == .sharedKey(accountKey: Self.key))
        let china = try AzureStorageSettings.parse(
            "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=\(Self.key);EndpointSuffix=core.chinacloudapi.cn")
        #expect(china.blobEndpoint.absoluteString == "http://acct.blob.core.chinacloudapi.cn")
    }

    @Test func blobEndpointWinsAndLosesItsTrailingSlash() throws {
        let s = try AzureStorageSettings.parse(
            "DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=\(Self.key);BlobEndpoint=https://myaccount.blob.core.windows.net/")
        #expect(s.blobEndpoint.absoluteString == "https://myaccount.blob.core.windows.net")
        #expect(s.accountName == "myaccount")
    }

    @Test func sharedAccessSignatureWithBlobEndpoint() throws {
        let sas = "sv=2021-08-06&ss=b&srt=co&sp=rwdlac&se=2026-01-01T00:00:00Z&spr=https&sig=abc%2Bdef%3D"
        let s = try AzureStorageSettings.parse("BlobEndpoint=https://myaccount.blob.core.windows.net/;SharedAccessSignature=\(sas)")
        #expect(s.credential == .sharedAccessSignature(sas))
        #expect(s.accountName == "myaccount")
        let withQuestionMark = try AzureStorageSettings.parse("BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=?\(sas)")
        #expect(withQuestionMark.credential == .sharedAccessSignature(sas))
    }

    @Test func developmentStorageIsAzuriteWithPathStyle() throws {
        let s = try AzureStorageSettings.parse("UseDevelopmentStorage=true")
        #expect(s.blobEndpoint.absoluteString == "http://127.0.0.1:10000/devstoreaccount1")
        #expect(s.accountName == "devstoreaccount1")
        #expect(s.credential == .sharedKey(accountKey: Self.key))
        #expect(s.isPathStyle)
        // The expanded form in the reference means the same.
        let expanded = try AzureStorageSettings.parse(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=\(Self.key);BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
        #expect(expanded == s)
    }

    @Test func pathStyleAccountComesFromTheEndpointPath() throws {
        let s = try AzureStorageSettings.parse("BlobEndpoint=http://localhost:10000/devstoreaccount1;SharedAccessSignature=sv=1&sig=x")
        #expect(s.accountName == "devstoreaccount1")
        #expect(s.isPathStyle)
    }

    @Test func accountURLWithSASOrAloneForManagedIdentity() throws {
        let sas = try AzureStorageSettings.parse("https://acct.blob.core.windows.net/?sv=2021-08-06&sp=rl&sig=x%2By")
        #expect(sas.credential == .sharedAccessSignature("sv=2021-08-06&sp=rl&sig=x%2By"))
        #expect(sas.blobEndpoint.absoluteString == "https://acct.blob.core.windows.net")
        let mi = try AzureStorageSettings.parse("  https://acct.blob.core.windows.net  ")
        #expect(mi.credential == .managedIdentity)
        #expect(mi.accountName == "acct")
    }

    @Test func managedIdentityOverPlainHTTPIsRefused() {
        #expect(throws: AzureSettingsError.bearerRequiresHTTPS(url: "http://127.0.0.1:10000/devstoreaccount1")) {
            try AzureStorageSettings.parse("http://127.0.0.1:10000/devstoreaccount1")
        }
    }

    @Test(arguments: [
        ("", "is empty"),
        ("AccountName=acct;AccountKey", "part 2 ('AccountKey') has no '='"),
        ("AccountName=acct;;AccountKey=\(AzureStorageSettings.developmentAccountKey)", "part 2 is empty"),
        ("AccountName=acct;AccountKey=%%%notbase64", "not valid Base64"),
        ("AccountName=acct", "neither AccountKey nor SharedAccessSignature"),
        ("DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey=\(AzureStorageSettings.developmentAccountKey)", "must be https or http"),
        ("BlobEndpoint=not a url;AccountKey=\(AzureStorageSettings.developmentAccountKey)", "BlobEndpoint 'not a url' is not an absolute http(s) URL"),
        ("UseDevelopmentStorage=false", "UseDevelopmentStorage must be 'true'"),
        ("AccountName=a;AccountName=b;AccountKey=\(AzureStorageSettings.developmentAccountKey)", "'accountname' appears twice"),
        ("AccountKey=\(AzureStorageSettings.developmentAccountKey)", "names no account"),
        ("BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2021-08-06&sp=r", "no 'sig'"),
        ("https://acct.blob.core.windows.net?sv=1&sp=r", "no 'sig'"),
        ("https://", "not an absolute URL"),
    ])
    func malformedSettingsAreRejectedWithAClearMessage(setting: String, expected: String) {
        do {
            let parsed = try AzureStorageSettings.parse(setting)
            Issue.record("'\(setting)' parsed as \(parsed.blobEndpoint)")
        } catch let error as AzureSettingsError {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains(Self.key), "an error must not repeat the account key")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func containerNamesFollowAzureRules() throws {
        for good in ["memory", "abc", "a-b-c", "m0", String(repeating: "a", count: 63)] where good.count >= 3 {
            #expect(AzureBlobStore.isValidContainerName(good), "\(good)")
        }
        for bad in ["ab", "Memory", "a--b", "-ab", "ab-", "a_b", String(repeating: "a", count: 64)] {
            #expect(!AzureBlobStore.isValidContainerName(bad), "\(bad)")
        }
        #expect(throws: AzureSettingsError.invalidContainerName("Bad_Name")) {
            try AzureBlobStore.make(setting: "UseDevelopmentStorage=true", container: "Bad_Name",
                                    logger: Logger(label: "test"), environment: [:])
        }
    }

    @Test func managedIdentityNeedsTheIdentityEnvironment() {
        #expect(throws: AzureSettingsError.managedIdentityUnavailable(reason: "IDENTITY_ENDPOINT is not set")) {
            try AzureBlobStore.make(setting: "https://acct.blob.core.windows.net", container: "memory",
                                    logger: Logger(label: "test"), environment: [:])
        }
        #expect(throws: AzureSettingsError.managedIdentityUnavailable(reason: "IDENTITY_HEADER is not set")) {
            try AzureBlobStore.make(setting: "https://acct.blob.core.windows.net", container: "memory",
                                    logger: Logger(label: "test"),
                                    environment: ["IDENTITY_ENDPOINT": "http://127.0.0.1:8081/msi/token"])
        }
    }
}
