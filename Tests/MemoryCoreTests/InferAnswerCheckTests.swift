import Foundation
import JSONModel
import Testing
import MemoryStorage
@testable import MemoryCore

/// The rules that repair a model's answer, and the schema check every answer passes before it is used.
@Suite struct InferAnswerCheckTests {
    func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    func decision(_ event: String, _ id: String, _ text: String) -> JSONValue {
        .object(["event": .string(event), "id": .string(id), "text": .string(text)])
    }

    func rejection(_ body: () throws(InferError) -> JSONValue) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            guard case .malformedAnswer(_, let detail) = error else { return "unexpected \(error)" }
            return detail
        }
    }

    @Test func factsAreRepairedByRule() throws {
        let repaired = try InferAnswerRepair.facts(parse(#"{"facts": ["Likes tea", null], "reasoning": "x"}"#))
        #expect(repaired == .object(["facts": .array([.string("Likes tea")])]))
        let single = try InferAnswerRepair.facts(parse(#"{"facts": "Lives in Berlin"}"#))
        #expect(single == .object(["facts": .array([.string("Lives in Berlin")])]))
    }

    @Test func factsOfTheWrongKindRejectTheWholeAnswer() throws {
        let number = try parse(#"{"facts": ["Likes tea", 42]}"#)
        #expect(rejection { () throws(InferError) in try InferAnswerRepair.facts(number) } == "answer.facts[1] is a number, not a string")
        let object = try parse(#"{"facts": [{"fact": "Likes tea"}]}"#)
        #expect(rejection { () throws(InferError) in try InferAnswerRepair.facts(object) }?.contains("is an object") == true)
        let missing = try parse(#"{"memories": ["Likes tea"]}"#)
        #expect(rejection { () throws(InferError) in try InferAnswerRepair.facts(missing) }?.contains("no \"facts\" list") == true)
    }

    @Test func decisionsAreRepairedByRule() throws {
        let answer = try parse("""
            {"decisions": [
              {"event": " update ", "id": 0, "text": "Lives in Munich", "reason": "moved"},
              {"event": "DELETE", "id": "1"},
              {"event": "ADD", "id": null, "text": "Likes tea"}
            ], "note": "x"}
            """)
        let repaired = try InferAnswerRepair.decisions(answer)
        #expect(repaired == .object(["decisions": .array([
            decision("UPDATE", "0", "Lives in Munich"),
            decision("DELETE", "1", ""),
            decision("ADD", "", "Likes tea"),
        ])]))
        #expect(JSONSchemaCheck(InferSchemas.decisions)?.problems(repaired) == [])
        let single = try InferAnswerRepair.decisions(parse(#"{"decisions": {"event": "NONE", "id": "0", "text": ""}}"#))
        #expect(single["decisions"]?.arrayValue?.count == 1)
    }

    @Test func decisionsWithValuesOfTheWrongKindRejectTheWholeAnswer() throws {
        let cases: [(String, String)] = [
            (#"{"decisions": [{"event": "ADD", "id": "", "text": "ok"}, {"event": "ADD", "id": "", "text": 7}]}"#,
             "answer.decisions[1].text is a number, not a string"),
            (#"{"decisions": [{"event": "UPDATE", "id": 1.5, "text": "x"}]}"#, "answer.decisions[0].id is a number, not a memory id"),
            (#"{"decisions": [{"event": "UPDATE", "id": true, "text": "x"}]}"#, "answer.decisions[0].id is a boolean, not a memory id"),
            (#"{"decisions": [{"id": "0", "text": "x"}]}"#, "answer.decisions[0].event is missing, not a string"),
            (#"{"decisions": ["ADD Likes tea"]}"#, "answer.decisions[0] is a string, not an object"),
            (#"{"decisions": "none"}"#, "answer.decisions is a string, not a list of objects"),
        ]
        for (text, expected) in cases {
            let answer = try parse(text)
            #expect(rejection { () throws(InferError) in try InferAnswerRepair.decisions(answer) } == expected)
        }
    }

    @Test func theSchemaCheckNamesEveryKindOfMisfit() throws {
        let check = try #require(JSONSchemaCheck(InferSchemas.decisions))
        let answer = try parse(#"{"decisions": [{"event": "MERGE", "id": "0", "text": 3, "extra": 1}, {"event": "ADD"}], "x": 1}"#)
        #expect(check.problems(answer, limit: 10) == [
            #"answer.decisions[0].event is "MERGE", not one of ["ADD", "UPDATE", "DELETE", "NONE"]"#,
            "answer.decisions[0].extra is not a field of the schema",
            "answer.decisions[0].text is a number, the schema wants a string",
            "answer.decisions[1].id is missing",
            "answer.decisions[1].text is missing",
            "answer.x is not a field of the schema",
        ])
        let facts = try #require(JSONSchemaCheck(InferSchemas.facts))
        #expect(facts.problems(try parse(#"{"facts": ["a", "b"]}"#)) == [])
        #expect(facts.problems(try parse(#"[]"#)) == ["answer is an array, the schema wants an object"])
    }
}
