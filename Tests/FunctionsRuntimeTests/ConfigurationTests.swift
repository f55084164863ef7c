import Foundation
import FunctionsRuntime
import Logging
import Testing

@Suite struct ConfigurationTests {
    @Test func defaults() throws {
        let c = try RuntimeConfiguration(environment: [:])
        #expect(c.port == 7071)
        #expect(c.storage == .folder(path: "./.memory", container: "memories"))
        #expect(c.embedderName == EmbedderFactory.defaultName)
        #expect(c.apiKeys.isOpen)
        #expect(c.logLevel == .info)
        #expect(c.maxBodyBytes == 1 << 20)
        #expect(c.compactSchedule == "0 */5 * * * *")
        #expect(c.localCompactInterval == 300)
    }

    @Test func readsEverySetting() throws {
        let c = try RuntimeConfiguration(environment: [
            "FUNCTIONS_CUSTOMHANDLER_PORT": "41234", "MEMORY_STORAGE": "/tmp/mem", "MEMORY_CONTAINER": "tenant-data",
            "MEMORY_EMBEDDER": "HASH", "MEMORY_LOG_LEVEL": "Warning", "MEMORY_MAX_BODY_BYTES": "4096",
            "MEMORY_COMPACT_SCHEDULE": "0 0 2 * * *", "MEMORY_LOCAL_COMPACT_SECONDS": "0",
        ])
        #expect(c.port == 41234)
        #expect(c.storage == .folder(path: "/tmp/mem", container: "tenant-data"))
        #expect(c.embedderName == "hash")
        #expect(c.logLevel == .warning)
        #expect(c.maxBodyBytes == 4096)
        #expect(c.compactSchedule == "0 0 2 * * *")
        #expect(c.localCompactInterval == 0)
        #expect(try RuntimeConfiguration(environment: ["FUNCTIONS_HTTPWORKER_PORT": "5000"]).port == 5000)
    }

    @Test func azureStorageIsRecognisedAndRedacted() throws {
        let cs = try StorageConfiguration(storage: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net", container: nil)
        guard case .azureConnectionString = cs else { Issue.record("not a connection string: \(cs)"); return }
        #expect(!cs.redacted.contains("c2VjcmV0"))
        let url = try StorageConfiguration(storage: "https://acct.blob.core.windows.net", container: "mem")
        #expect(url == .azureAccountURL(URL(string: "https://acct.blob.core.windows.net")!, container: "mem"))
        #expect(try StorageConfiguration(storage: "UseDevelopmentStorage=true", container: nil) != .folder(path: "UseDevelopmentStorage=true", container: "memories"))
    }

    @Test(arguments: [
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "http"),
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "70000"),
        ("MEMORY_CONTAINER", "Bad_Name"),
        ("MEMORY_CONTAINER", "ab"),
        ("MEMORY_EMBEDDER", "gpt-9"),
        ("MEMORY_LOG_LEVEL", "loud"),
        ("MEMORY_MAX_BODY_BYTES", "-1"),
        ("MEMORY_COMPACT_SCHEDULE", "*/5 * * * *"),
        ("MEMORY_API_KEYS", "acme:write"),
        ("MEMORY_API_KEYS", "acme:owner:" + String(repeating: "a", count: 64)),
        ("MEMORY_API_KEYS", "ac me:read:" + String(repeating: "a", count: 64)),
        ("MEMORY_API_KEYS", "acme:read:abc"),
    ])
    func badSettingIsNamed(setting: String, value: String) {
        do throws(ConfigurationError) {
            _ = try RuntimeConfiguration(environment: [setting: value])
            Issue.record("\(setting)=\(value) was accepted")
        } catch {
            #expect(error.setting == setting)
            #expect(error.description.hasPrefix("configuration error: \(setting): "))
        }
    }

    @Test func keyTableResolvesHashedKeys() throws {
        // sha256("test") is a well-known vector.
        #expect(APIKeyTable.hash(key: "test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        let table = try APIKeyTable(setting: " acme:write:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 ;\nbeta:read:\(APIKeyTable.hash(key: "b"));")
        #expect(table.principal(forKey: "test") == Principal(tenant: "acme", role: .write))
        #expect(table.principal(forKey: "b") == Principal(tenant: "beta", role: .read))
        #expect(table.principal(forKey: "tes") == nil)
        #expect(!table.isOpen)
        #expect(try APIKeyTable(setting: "").isOpen)
        #expect(Role.admin > Role.write && Role.write > Role.read)
    }

    @Test func embedderFactoryBuildsHash() throws {
        let e = try EmbedderFactory.make(name: "hash", environment: [:])
        #expect(e.dimension == 384)
        #expect(throws: ConfigurationError.self) { try EmbedderFactory.make(name: "nope", environment: [:]) }
    }

    @Test func unknownMiniLMBackendNamesItsSetting() {
        do {
            _ = try EmbedderFactory.make(name: "minilm", environment: ["MEMORY_MINILM_BACKEND": "fp16"])
            Issue.record("an unknown backend was accepted")
        } catch {
            #expect(error.setting == "MEMORY_MINILM_BACKEND")
            #expect(error.problem.contains("int8") && error.problem.contains("float"), "\(error.problem)")
        }
    }
}
