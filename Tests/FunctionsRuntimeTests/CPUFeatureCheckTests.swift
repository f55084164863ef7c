@testable import FunctionsRuntime
import Testing

@Suite struct CPUFeatureCheckTests {
    @Test func thisMachineHasEveryRequiredFlag() {
        #expect(CPUFeatureCheck.missingFlags() == [])
    }

    @Test func namesTheFlagsAnOldCPULacks() {
        #if arch(x86_64) && os(Linux)
        let sandyBridge = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx popcnt\nbugs\t\t:\n"
        let missing = CPUFeatureCheck.missingFlags(cpuinfo: sandyBridge)
        #expect(missing == ["avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"])
        #expect(CPUFeatureCheck.failureMessage(missing: missing).contains("avx2, bmi1"))
        #endif
    }

    @Test func uninspectableCPUInfoDoesNotBlockStartup() {
        #expect(CPUFeatureCheck.missingFlags(cpuinfo: nil) == [])
        #expect(CPUFeatureCheck.missingFlags(cpuinfo: "no flags line here") == [])
    }
}
