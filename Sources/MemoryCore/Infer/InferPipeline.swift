import Foundation
import Logging
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

    private func extractFacts(_ turns: [InferMessage], input: InferInput, prompts: InferPrompts)
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
        let answer: InferSchemas.FactsAnswer = try decode(response.content, stage: .extraction)
        var unique = Set<String>()
        let facts = answer.facts
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && unique.insert($0.lowercased()).inserted }
        return (facts, response.usage)
    }

    // MARK: - Decision

    private func decide(facts: [String], existing: [ExistingMemory], input: InferInput, prompts: InferPrompts)
        async throws -> ([InferSchemas.DecisionsAnswer.Decision], TokenUsage)
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
        let answer: InferSchemas.DecisionsAnswer = try decode(response.content, stage: .decision)
        return (answer.decisions, response.usage)
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

    private func decode<T: Decodable>(_ content: String, stage: InferStage) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(content.utf8))
        } catch {
            logger.error("infer: unusable model answer", metadata: [
                "stage": "\(stage.rawValue)", "model": "\(chat.model)", "answer": "\(content.prefix(300))",
            ])
            throw InferError.malformedAnswer(stage: stage, detail: "expected \(T.self) JSON, got: \(content.prefix(200))")
        }
    }
}
