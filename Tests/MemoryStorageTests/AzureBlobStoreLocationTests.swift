import Foundation
import Testing
@testable import MemoryStorage

/// The one-string storage locations as `memory-tool --storage` takes them (``StorageLocation``).
@Suite struct AzureBlobStoreLocationTests {
    /// The Azure store a location string builds.
    static func azure(_ location: String, environment: [String: String] = [:]) throws -> AzureBlobStore {
        let store = try StorageLocation(parsing: location, environment: environment).makeStore(environment: environment)
        return try #require(store as? AzureBlobStore)
    }

    @Test func foldersAndSchemesParseToOneLocationType() throws {
        #expect(try StorageLocation(parsing: "/data/memories") == .folder(URL(fileURLWithPath: "/data/memories"), durable: true))
        #expect(try StorageLocation(parsing: "file:///tmp/x") == .folder(URL(fileURLWithPath: "/tmp/x"), durable: true))
        #expect(try StorageLocation(parsing: "file-nosync:/tmp/x") == .folder(URL(fileURLWithPath: "/tmp/x"), durable: false))
        #expect(try StorageLocation(parsing: "azure:logs@UseDevelopmentStorage=true", environment: [:])
                == .azure(setting: "UseDevelopmentStorage=true", container: "logs"))
        #expect(throws: StorageLocation.UnsupportedError.self) { try StorageLocation(parsing: "s3://bucket") }
    }

    @Test func containerFromThePrefixFromTheEnvironmentOrTheDefault() throws {
        let named = try Self.azure("azure:logs@UseDevelopmentStorage=true")
        #expect(named.container == "logs")
        #expect(named.settings == .developmentStorage)
        let fromEnv = try Self.azure("azure:UseDevelopmentStorage=true", environment: ["MEMORY_CONTAINER": "team-a"])
        #expect(fromEnv.container == "team-a")
        let byDefault = try Self.azure("azure:https://acct.blob.core.windows.net?sv=1&sig=x")
        #expect(byDefault.container == "memories")
        #expect(byDefault.settings.credential == .sharedAccessSignature("sv=1&sig=x"))
        #expect(try StorageLocation(parsing: "azure:mem1@UseDevelopmentStorage=true").makeStore() is AzureBlobStore)
    }

    @Test func azureSettingsAreToldApartFromFolderPaths() {
        for azure in ["UseDevelopmentStorage=true", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k",
                      "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&sig=x",
                      "https://a.blob.core.windows.net", " HTTP://127.0.0.1:10000/devstoreaccount1 ",
                      "AccountName=a;AccountKey=broken"] {
            #expect(AzureStorageSettings.isAzureSetting(azure), "\(azure)")
        }
        for folder in ["./.memory", "/var/lib/memory", "data", "file:/tmp/x", "/tmp/a=b"] {
            #expect(!AzureStorageSettings.isAzureSetting(folder), "\(folder)")
        }
    }

    @Test func aBadContainerPrefixIsNamed() {
        #expect(throws: AzureSettingsError.invalidContainerName("m1")) {
            _ = try Self.azure("azure:m1@UseDevelopmentStorage=true")
        }
    }

    @Test func badSettingsSayWhatIsWrong() {
        #expect(throws: AzureSettingsError.malformedConnectionString(reason: "UseDevelopmentStorage must be 'true' (got 'no')")) {
            _ = try Self.azure("azure:memory@UseDevelopmentStorage=no")
        }
    }
}
