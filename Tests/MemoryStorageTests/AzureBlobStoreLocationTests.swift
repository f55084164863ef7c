import Foundation
import Testing
@testable import MemoryStorage

/// `azure:[container@]<setting>` as `memory-tool --storage` takes it.
@Suite struct AzureBlobStoreLocationTests {
    @Test func containerFromThePrefixFromTheEnvironmentOrTheDefault() throws {
        let named = try AzureBlobStoreLocation.open("azure:logs@UseDevelopmentStorage=true", environment: [:])
        #expect(named.container == "logs")
        #expect(named.settings == .developmentStorage)
        let fromEnv = try AzureBlobStoreLocation.open("azure:UseDevelopmentStorage=true",
                                                      environment: ["MEMORY_CONTAINER": "team-a"])
        #expect(fromEnv.container == "team-a")
        let byDefault = try AzureBlobStoreLocation.open("azure:https://acct.blob.core.windows.net?sv=1&sig=x",
                                                        environment: [:])
        #expect(byDefault.container == "memories")
        #expect(byDefault.settings.credential == .sharedAccessSignature("sv=1&sig=x"))
        #expect(try BlobStoreLocation.open("azure:mem1@UseDevelopmentStorage=true") is AzureBlobStore)
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
            try AzureBlobStoreLocation.open("azure:m1@UseDevelopmentStorage=true", environment: [:])
        }
    }

    @Test func badSettingsSayWhatIsWrong() {
        #expect(throws: AzureSettingsError.malformedConnectionString(reason: "UseDevelopmentStorage must be 'true' (got 'no')")) {
            try AzureBlobStoreLocation.open("azure:memory@UseDevelopmentStorage=no", environment: [:])
        }
    }
}
