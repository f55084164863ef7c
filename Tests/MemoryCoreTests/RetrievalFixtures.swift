import Foundation
import JSONModel
import MemoryStorage
import TestSupport
@testable import MemoryCore

/// Deterministic data for retrieval tests: random and clustered unit vectors, partitions (drawn with
/// ``SeededGenerator``).
enum RetrievalFixtures {
    static func gaussian(_ rng: inout SeededGenerator) -> Float {
        let u1 = max(Float.random(in: 0..<1, using: &rng), 1e-7), u2 = Float.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    static func unit(_ v: [Float]) -> [Float] {
        let n = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    static func randomVector(_ d: Int, _ rng: inout SeededGenerator) -> [Float] {
        unit((0..<d).map { _ in gaussian(&rng) })
    }

    /// `count` vectors around `clusters` centres (noise σ relative to the centre), like real embeddings.
    static func clusteredVectors(count: Int, dimension d: Int, clusters: Int, noise: Float, _ rng: inout SeededGenerator) -> [[Float]] {
        let centres = (0..<clusters).map { _ in randomVector(d, &rng) }
        return (0..<count).map { i in
            let c = centres[i % clusters]
            return unit(c.map { $0 + noise * gaussian(&rng) / Float(d).squareRoot() })
        }
    }

    /// The standard ranking with conversational context, subjects and supersession off: calibrated fusion alone, for
    /// tests of the fused score.
    static let fusionOnly: RankingOptions = {
        var r = RankingOptions.standard
        r.contextWeight = 0
        r.supersedeSimilarity = nil
        r.subjectWeight = 0
        return r
    }()

    static let key = PartitionKey(tenant: "t", owner: PartitionOwner(kind: .user, id: "alice"))
    static let epoch = Date(timeIntervalSince1970: 1_790_000_000)

    static func memory(_ i: Int, text: String, vector: [Float], scopes: MemoryScopes = MemoryScopes(userId: "alice"),
                       metadata: JSONValue = .null, categories: [String] = [], updated: Date? = nil,
                       expires: Date? = nil) -> StoredMemory {
        StoredMemory(id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", i))!, text: text, hash: "\(i)",
                     scopes: scopes, metadata: metadata, categories: categories,
                     createdAt: epoch.addingTimeInterval(Double(i)), updatedAt: updated ?? epoch.addingTimeInterval(Double(i)),
                     expirationDate: expires, embedding: vector)
    }

    static func state(_ memories: [StoredMemory], revision: UInt64 = 1) -> PartitionState {
        PartitionState(key: key, memories: memories, history: [:], idempotentResponses: [:], revision: revision)
    }

    /// Exact float32 top-k rows by dot product among `rows`.
    static func bruteForce(_ vectors: [[Float]], query: [Float], k: Int, rows: [Int]? = nil) -> [Int] {
        let q = unit(query)
        let candidates = rows ?? Array(vectors.indices)
        let scored = candidates.map { r in (r, zip(vectors[r], q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
        return scored.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k).map(\.0)
    }
}
