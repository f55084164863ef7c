import Foundation
import Logging

/// Maps the decision call's answer (temporary ids "0", "1", ...) back to real memory ids and validates it.
///
/// - An id that was not shown to the model (hallucinated) is logged and the decision ignored.
/// - Each existing memory is changed at most once; later decisions about it are ignored.
/// - An UPDATE to the same text, or an ADD of a text already stored or already added, is dropped.
/// - An event other than ADD / UPDATE / DELETE / NONE makes the whole answer unusable (nothing is applied).
struct InferDecisionMapping {
    let existing: [ExistingMemory]
    let logger: Logger

    func actions(for decisions: [InferSchemas.Decision]) throws -> [InferAction] {
        var actions: [InferAction] = []
        var touched = Set<UUID>()
        var known = Set(existing.map { Self.normalized($0.text) })
        for decision in decisions {
            let event = decision.event.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
            let text = (decision.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let shownID = (decision.id ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            switch event {
            case "NONE":
                continue
            case "ADD":
                guard !text.isEmpty else {
                    logger.warning("infer: ignoring ADD without text")
                    continue
                }
                guard known.insert(Self.normalized(text)).inserted else { continue }
                actions.append(.add(text: text))
            case "UPDATE", "DELETE":
                guard let memory = memory(shownID: shownID, event: event) else { continue }
                guard !touched.contains(memory.id) else {
                    logger.warning("infer: ignoring a second change to the same memory", metadata: [
                        "event": "\(event)", "memory_id": "\(memory.id)",
                    ])
                    continue
                }
                if event == "DELETE" {
                    touched.insert(memory.id)
                    actions.append(.delete(id: memory.id))
                    continue
                }
                guard !text.isEmpty else {
                    logger.warning("infer: ignoring UPDATE without text", metadata: ["memory_id": "\(memory.id)"])
                    continue
                }
                guard Self.normalized(text) != Self.normalized(memory.text) else { continue }
                touched.insert(memory.id)
                known.insert(Self.normalized(text))
                actions.append(.update(id: memory.id, text: text))
            default:
                throw InferError.malformedAnswer(stage: .decision, detail: "unknown event '\(decision.event)'")
            }
        }
        return actions
    }

    /// The memory behind a temporary id, or nil (logged) when the model named an id it was not shown.
    private func memory(shownID: String, event: String) -> ExistingMemory? {
        guard let index = Int(shownID), existing.indices.contains(index), String(index) == shownID else {
            logger.warning("infer: the model named a memory id it was not shown; decision ignored", metadata: [
                "event": "\(event)", "id": "\(shownID.prefix(40))", "shown_ids": "0..<\(existing.count)",
            ])
            return nil
        }
        return existing[index]
    }

    private static func normalized(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            .trimmingCharacters(in: CharacterSet(charactersIn: ".!"))
    }
}
