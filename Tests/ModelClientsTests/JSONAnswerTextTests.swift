import Foundation
import Testing
@testable import ModelClients

/// Taking the JSON object out of a model's answer text.
@Suite struct JSONAnswerTextTests {
    @Test func aBareObjectIsTakenAsItIs() {
        #expect(JSONAnswerText.object(in: "  {\"facts\": []}\n") == "{\"facts\": []}")
    }

    @Test func aFencedBlockIsTakenWithOrWithoutALanguageTag() {
        #expect(JSONAnswerText.object(in: "Here:\n```json\n{\"facts\": [\"a\"]}\n```") == "{\"facts\": [\"a\"]}")
        #expect(JSONAnswerText.object(in: "```\n{\"facts\": [\"b\"]}\n```\nDone.") == "{\"facts\": [\"b\"]}")
        #expect(JSONAnswerText.object(in: "```{\"facts\": []}```") == "{\"facts\": []}")
    }

    @Test func anObjectInsideProseIsFoundAndBracesInStringsDoNotConfuseIt() {
        let answer = #"Sure {not json}. The answer is {"facts": ["uses {curly} braces", "says \"}\""]} as asked."#
        #expect(JSONAnswerText.object(in: answer) == #"{"facts": ["uses {curly} braces", "says \"}\""]}"#)
    }

    @Test func truncatedArraysAndScalarsAreNotObjects() {
        #expect(JSONAnswerText.object(in: #"{"facts": ["Lives in Ber"#) == nil)
        #expect(JSONAnswerText.object(in: #"["Lives in Berlin"]"#) == nil)
        #expect(JSONAnswerText.object(in: "42") == nil)
        #expect(JSONAnswerText.object(in: "The user lives in Berlin.") == nil)
        #expect(JSONAnswerText.object(in: "") == nil)
    }
}
