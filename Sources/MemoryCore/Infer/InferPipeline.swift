import Foundation
import JSONModel
import Logging
import MemoryStorage
import ModelClients

/// Turns new chat turns into a plan of memory changes: extract facts, find related memories, decide
/// ADD / UPDATE / DELETE / NONE per fact. It writes nothing; the memory service applies the plan in one append.
///
/// 1. Extraction: one chat call with `Prompts/fact-extraction.md` over the user and assistant turns, relative
///    dates resolved against ``InferInput/messageTime``, honouring custom instructions, includes, excludes.
///    No facts: an empty plan and no further call.
/// 2. Lookup: `similar(facts)` returns existing memories close to the facts (the service searches the partition).
///    None: every fact is an ADD and there is no decision call.
/// 3. Decision: one chat call with `Prompts/memory-reconciliation.md`, the existing memories shown with short
///    temporary ids ("0", "1", ...), never their real ids. Ids in the answer are mapped back; an id that was
///    not shown is logged and ignored, never applied; each memory is changed at most once.
///
/// So an add makes at most two chat calls, each bounded by the client's timeout and retry budget. Every
/// answer, whatever output mode the chat client negotiated, is repaired by fixed rules (``InferAnswerRepair``)
/// and checked against the step's schema (``JSONSchemaCheck``) before it is used; an answer that does not fit
/// is rejected whole (``InferError/malformedAnswer(stage:detail:)``) and nothing is written.
public struct InferPipeline: Sendable {
    public let chat: any ChatModel
    public let logger: Logger
    /// Token cap of the extraction answer.
    public var extractionMaxTokens: Int
    /// Token cap of the decision answer.
    public var decisionMaxTokens: Int
    /// Most existing memories shown to the decision call (the closest first, as `similar` returns them).
    public var maxExistingShown: Int

    public init(chat: any ChatModel, logger: Logger, extractionMaxTokens: Int = 1500, decisionMaxTokens: Int = 2000,
                maxExistingShown: Int = 50) {
        self.chat = chat
        self.logger = logger
        self.extractionMaxTokens = extractionMaxTokens
        self.decisionMaxTokens = decisionMaxTokens
        self.maxExistingShown = maxExistingShown
    }

    /// Runs the pipeline. Throws ``InferError`` (model failure or unusable answer) or whatever `similar` throws.
    public func plan(_ input: InferInput, similar: @Sendable ([String]) async throws -> [ExistingMemory])
        async throws -> InferPlan
    {
        let prompts = try InferPrompts.bundled.get()
        let turns = input.messages.filter { ["user", "assistant"].contains($0.role.lowercased()) }
            .filter { !$0.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        guard !turns.isEmpty else { return InferPlan(actions: [], usage: TokenUsage(), facts: []) }

        let (facts, extractionUsage) = try await extractFacts(turns, input: input, prompts: prompts)
        guard !facts.isEmpty else {
            logger.debug("infer: no facts worth remembering")
            return InferPlan(actions: [], usage: extractionUsage, facts: [])
        }

        var existing: [ExistingMemory] = []
        var seen = Set<UUID>()
        for memory in try await similar(facts) where seen.insert(memory.id).inserted {
            existing.append(memory)
        }
        existing = Array(existing.prefix(maxExistingShown))
        guard !existing.isEmpty else {
            return InferPlan(actions: facts.map { .add(text: $0) }, usage: extractionUsage, facts: facts)
        }

        let (decisions, decisionUsage) = try await decide(facts: facts, existing: existing, input: input, prompts: prompts)
        let actions = try InferDecisionMapping(existing: existing, logger: logger).actions(for: decisions)
        return InferPlan(actions: actions, usage: extractionUsage + decisionUsage, facts: facts)
    }

    // MARK: - Extraction

    private func extractFacts(_ turns: [InputMessage], input: InferInput, prompts: InferPrompts)
        async throws -> ([String], TokenUsage)
    {
        let conversation = turns.map { "\($0.role.lowercased()): \($0.content)" }.joined(separator: "\n")
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: prompts.extractionSystemPrompt(input)),
                ChatMessage(role: .user, content: """
                    Conversation (sent \(InferPrompts.timestamp(input.messageTime))):
                    \(conversation)
                    """),
            ],
            schemaName: InferSchemas.factsName, jsonSchema: InferSchemas.facts, temperature: 0,
            maxTokens: extractionMaxTokens)
        let response = try await call(request, stage: .extraction)
        let answer = try checkedAnswer(response, stage: .extraction)
        var unique = Set<String>()
        let facts = (answer["facts"]?.arrayValue ?? []).compactMap(\.stringValue)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && unique.insert($0.lowercased()).inserted }
        return (facts, response.usage)
    }

    // MARK: - Decision

    private func decide(facts: [String], existing: [ExistingMemory], input: InferInput, prompts: InferPrompts)
        async throws -> ([InferSchemas.Decision], TokenUsage)
    {
        let shown: [[String: String]] = existing.enumerated().map { ["id": String($0.offset), "text": $0.element.text] }
        let payload: [String: Any] = ["existing_memories": shown, "new_facts": facts]
        let payloadText = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .prettyPrinted]),
                                 as: UTF8.self)
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: prompts.reconciliationSystemPrompt(input)),
                ChatMessage(role: .user, content: payloadText),
            ],
            schemaName: InferSchemas.decisionsName, jsonSchema: InferSchemas.decisions, temperature: 0,
            maxTokens: decisionMaxTokens)
        let response = try await call(request, stage: .decision)
        let answer = try checkedAnswer(response, stage: .decision)
        let decisions = (answer["decisions"]?.arrayValue ?? []).map {
            InferSchemas.Decision(event: $0["event"]?.stringValue ?? "", id: $0["id"]?.stringValue,
                                  text: $0["text"]?.stringValue)
        }
        return (decisions, response.usage)
    }

    // MARK: - Helpers

    private func call(_ request: ChatRequest, stage: InferStage) async throws -> ChatResponse {
        do {
            return try await chat.complete(request)
        } catch let error as ModelClientError {
            logger.error("infer: chat model call failed", metadata: [
                "stage": "\(stage.rawValue)", "model": "\(chat.model)", "error": "\(error)",
            ])
            throw InferError.model(stage: stage, error)
        }
    }

    /// The answer parsed, repaired by rule and checked against the step's schema. Logs (without the answer's
    /// text, which may hold memories) and throws ``InferError/malformedAnswer(stage:detail:)`` when unusable.
    private func checkedAnswer(_ response: ChatResponse, stage: InferStage) throws(InferError) -> JSONValue {
        do throws(InferError) {
            guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(response.content.utf8)) else {
                throw InferError.malformedAnswer(stage: stage, detail: "the answer is not JSON")
            }
            let repaired: JSONValue
            let schema: Data
            switch stage {
            case .extraction:
                repaired = try InferAnswerRepair.facts(parsed)
                schema = InferSchemas.facts
            case .decision:
                repaired = try InferAnswerRepair.decisions(parsed)
                schema = InferSchemas.decisions
            }
            let problems = JSONSchemaCheck(schema)?.problems(repaired) ?? ["the step's schema is not valid JSON"]
            guard problems.isEmpty else {
                throw InferError.malformedAnswer(stage: stage, detail: "the answer does not fit the schema: "
                                                 + problems.joined(separator: "; "))
            }
            return repaired
        } catch {
            logger.error("infer: unusable model answer, nothing applied", metadata: [
                "stage": "\(stage.rawValue)", "model": "\(chat.model)",
                "output_mode": "\(response.outputMode.map(\.rawValue) ?? "-")", "error": "\(error)",
            ])
            throw error
        }
    }
}
