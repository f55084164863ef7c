// TEMPORARY: minimal stand-ins for the retrieval types (branch `retrieval` replaces this file with the real
// filter grammar, BM25 and int8 scan). Deleted when that branch is merged.
import Foundation
import MemoryStorage

public struct FilterError: Error, Sendable, Equatable { public var message: String }

public struct MemoryFilter: Sendable {
    let equalities: [String: JSONValue]
    public static let all = MemoryFilter(equalities: [:])
    public static func parse(_ json: JSONValue) throws(FilterError) -> MemoryFilter {
        guard case .object(let o) = json else { throw FilterError(message: "filters must be an object") }
        return MemoryFilter(equalities: o)
    }
    public func matches(_ m: StoredMemory) -> Bool {
        for (k, v) in equalities {
            switch k {
            case "user_id": if v.stringValue != m.scopes.userId { return false }
            case "agent_id": if v.stringValue != m.scopes.agentId { return false }
            case "app_id": if v.stringValue != m.scopes.appId { return false }
            case "run_id": if v.stringValue != m.scopes.runId { return false }
            default: if m.metadata[k] != v { return false }
            }
        }
        return true
    }
}

public enum SearchMode: String, Sendable { case hybrid, vector, keyword }

public struct SearchQuery: Sendable {
    public var text: String
    public var vector: [Float]?
    public var topK: Int
    public var threshold: Double?
    public var filter: MemoryFilter
    public var mode: SearchMode
    public var recencyHalfLife: TimeInterval?
    public var now: Date
    public var includeExpired: Bool
    public var explain: Bool
    public init(text: String, vector: [Float]?, topK: Int, threshold: Double?, filter: MemoryFilter, mode: SearchMode,
                recencyHalfLife: TimeInterval?, now: Date, includeExpired: Bool, explain: Bool) {
        self.text = text; self.vector = vector; self.topK = topK; self.threshold = threshold; self.filter = filter
        self.mode = mode; self.recencyHalfLife = recencyHalfLife; self.now = now; self.includeExpired = includeExpired
        self.explain = explain
    }
}

public struct ScoreBreakdown: Sendable, Equatable {
    public var semantic: Double
    public var bm25: Double
    public var recency: Double?
}

public struct SearchHit: Sendable {
    public var memory: StoredMemory
    public var score: Double
    public var breakdown: ScoreBreakdown
}

public final class PartitionSearchIndex: Sendable {
    let state: PartitionState
    public init(state: PartitionState) { self.state = state }
    public var revision: UInt64 { state.revision }
    public func search(_ q: SearchQuery) -> [SearchHit] {
        var hits: [SearchHit] = []
        for m in state.memories where q.filter.matches(m) {
            if !q.includeExpired, let e = m.expirationDate, e <= q.now { continue }
            var dot: Float = 0
            if let v = q.vector { for i in 0..<min(v.count, m.embedding.count) { dot += v[i] * m.embedding[i] } }
            let s = Double(max(0, dot))
            if let t = q.threshold, s < t { continue }
            hits.append(SearchHit(memory: m, score: s, breakdown: ScoreBreakdown(semantic: s, bm25: 0, recency: nil)))
        }
        return Array(hits.sorted { $0.score > $1.score }.prefix(q.topK))
    }
}

public actor SearchIndexCache {
    public init(capacity: Int) {}
    public func index(for state: PartitionState) -> PartitionSearchIndex { PartitionSearchIndex(state: state) }
}

public enum MemoryBlockFormatter {
    public static func format(_ hits: [SearchHit], maxTokens: Int) -> String {
        hits.map { "- \($0.memory.text)" }.joined(separator: "\n")
    }
}
