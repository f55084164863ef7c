import Testing
@testable import ModelClients

@Suite struct HashingEmbedderTests {
    @Test func vectorsAreUnitLengthDeterministicAndCloserForSharedWords() async throws {
        let e = HashingEmbedder(dimension: 64)
        let v = try await e.embed(["I prefer dark mode", "dark mode please", "the invoice is due"], purpose: .document)
        #expect(v.count == 3 && v.allSatisfy { $0.count == 64 })
        let norm = v[0].reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 1e-5)
        func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(dot(v[0], v[1]) > dot(v[0], v[2]))
        #expect(e.vector("I prefer dark mode") == v[0])
    }
}
