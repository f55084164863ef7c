import Foundation
import FunctionsRuntime
import Testing

@Suite struct FanOutSettingTests {
    @Test func maxFanOutPartitionsDefaultsTo2000AndIsChecked() throws {
        #expect(try RuntimeConfiguration(environment: [:]).maxFanOutPartitions == 2000)
        #expect(try RuntimeConfiguration(environment: ["MEMORY_MAX_FANOUT_PARTITIONS": "50"]).maxFanOutPartitions == 50)
        #expect(throws: ConfigurationError.self) {
            _ = try RuntimeConfiguration(environment: ["MEMORY_MAX_FANOUT_PARTITIONS": "0"])
        }
        #expect(throws: ConfigurationError.self) {
            _ = try RuntimeConfiguration(environment: ["MEMORY_MAX_FANOUT_PARTITIONS": "many"])
        }
    }
}
