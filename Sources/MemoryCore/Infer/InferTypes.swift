import Foundation
import ModelClients

/// What the infer pipeline works from: the new messages and the caller's guidance.
public struct InferInput: Sendable {
    public var messages: [InputMessage]
    /// When the messages were sent; relative dates ("tomorrow") are resolved against it.
    public var messageTime: Date
    /// Mem0's `custom_instructions`: extra rules for what to remember and how to phrase it.
    public var customInstructions: String?
    /// Mem0's `includes`: the kinds of information to remember (only these).
    public var includes: String?
    /// Mem0's `excludes`: the kinds of information never to remember.
    public var excludes: String?

    public init(messages: [InputMessage], messageTime: Date, customInstructions: String? = nil,
                includes: String? = nil, excludes: String? = nil) {
        self.messages = messages
        self.messageTime = messageTime
        self.customInstructions = customInstructions
        self.includes = includes
        self.excludes = excludes
    }
}

/// An existing memory of the partition that the decision step may update or delete.
public struct ExistingMemory: Sendable, Equatable {
    public var id: UUID
    public var text: String

    public init(id: UUID, text: String) {
        self.id = id
        self.text = text
    }
}

/// One change the service should apply. NONE decisions produce no action.
public enum InferAction: Sendable, Equatable {
    /// Store a new memory with this text.
    case add(text: String)
    /// Replace the text of memory `id` (history keeps the old text).
    case update(id: UUID, text: String)
    /// Invalidate memory `id`.
    case delete(id: UUID)
}

/// The result of the pipeline: the actions to apply in one append, and the tokens the model calls used.
public struct InferPlan: Sendable, Equatable {
    public var actions: [InferAction]
    /// Sum over the extraction and decision calls.
    public var usage: TokenUsage
    /// The facts the extraction step found (for logs and `explain`-style output).
    public var facts: [String]

    public init(actions: [InferAction], usage: TokenUsage, facts: [String]) {
        self.actions = actions
        self.usage = usage
        self.facts = facts
    }
}

/// The step of the pipeline that failed.
public enum InferStage: String, Sendable, Equatable {
    case extraction = "fact extraction"
    case decision = "reconciliation decision"
}

/// Why the infer pipeline produced no plan. The service writes nothing in that case and answers with a
/// 502-style error (model failures) or 500 (missing prompts).
public enum InferError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The chat model call failed (throttled, unavailable, refused, truncated...).
    case model(stage: InferStage, ModelClientError)
    /// The model answered, but not in the shape the step needs.
    case malformedAnswer(stage: InferStage, detail: String)
    /// A prompt file is missing from the MemoryCore bundle (a packaging error).
    case promptMissing(name: String)

    public var description: String {
        switch self {
        case .model(let stage, let error):
            return "infer failed during \(stage.rawValue): \(error)"
        case .malformedAnswer(let stage, let detail):
            return "infer failed during \(stage.rawValue): the chat model's answer is unusable (\(detail)); nothing was written, retry the add"
        case .promptMissing(let name):
            return "infer prompt '\(name)' is missing from the MemoryCore resources bundle; the build is incomplete"
        }
    }
}
