import Foundation
import Testing
@testable import MemoryStorage

/// The four SharedKey test vectors of the protocol reference (§2.3), computed there with Microsoft's Python SDK.
@Suite struct AzureSharedKeySignerTests {
    let signer: SharedKeySigner
    let common = ["x-ms-date": "Mon, 24 Nov 2025 10:00:00 GMT", "x-ms-version": "2021-08-06"]
    let blobURL = "http://127.0.0.1:10000/devstoreaccount1/memory/log-0001.jsonl"

    init() throws {
        signer = try SharedKeySigner(accountName: "devstoreaccount1", base64Key: AzureStorageSettings.developmentAccountKey)
    }

    func check(_ method: String, _ url: String, _ extra: [String: String], text: String, authorization: String) throws {
        let url = try #require(URL(string: url))
        let headers = common.merging(extra) { a, _ in a }
        #expect(signer.stringToSign(method: method, url: url, headers: headers) == text)
        #expect(signer.authorization(method: method, url: url, headers: headers) == authorization)
    }

    @Test func createAppendBlobIfAbsent() throws {
        try check("PUT", blobURL, ["x-ms-blob-type": "AppendBlob", "If-None-Match": "*", "Content-Length": "0"],
                  text: "PUT\n\n\n\n\n\n\n\n\n*\n\n\nx-ms-blob-type:AppendBlob\nx-ms-date:Mon, 24 Nov 2025 10:00:00 GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/memory/log-0001.jsonl",
                  authorization: "SharedKey devstoreaccount1:IUqpsauctXczfyO12XF7ZOCrOSIpZFLqyJIaeIcPhZk=")
    }

    @Test func appendBlockAtPosition() throws {
        try check("PUT", blobURL + "?comp=appendblock",
                  ["x-ms-blob-condition-appendpos": "0", "Content-Length": "18", "Content-Type": "application/octet-stream"],
                  text: "PUT\n\n\n18\n\napplication/octet-stream\n\n\n\n\n\n\nx-ms-blob-condition-appendpos:0\nx-ms-date:Mon, 24 Nov 2025 10:00:00 GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/memory/log-0001.jsonl\ncomp:appendblock",
                  authorization: "SharedKey devstoreaccount1:4ViUcRWmVrLUV/oh4WVQUkXcNe2cOAQqnm2JYCn8axc=")
    }

    @Test func listWithPrefix() throws {
        try check("GET", "http://127.0.0.1:10000/devstoreaccount1/memory?restype=container&comp=list&prefix=log-&maxresults=100", [:],
                  text: "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Mon, 24 Nov 2025 10:00:00 GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/memory\ncomp:list\nmaxresults:100\nprefix:log-\nrestype:container",
                  authorization: "SharedKey devstoreaccount1:tZ83DRv8x4b3uVPodRJo5381W7uZ+xJ5S3MPN8EcBk0=")
    }

    @Test func rangedRead() throws {
        try check("GET", blobURL, ["x-ms-range": "bytes=0-1023"],
                  text: "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Mon, 24 Nov 2025 10:00:00 GMT\nx-ms-range:bytes=0-1023\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/memory/log-0001.jsonl",
                  authorization: "SharedKey devstoreaccount1:hXMm/k3RwHq7ViV/kXo/CG5zLq6Hrm79HDMgvCEe67A=")
    }

    @Test func virtualHostURLsNameTheAccountOnceAndDecodeQueryValues() throws {
        let url = try #require(URL(string: "https://myaccount.blob.core.windows.net/memory?restype=container&comp=list&marker=a%2Bb%3D"))
        let text = signer.stringToSign(method: "GET", url: url, headers: [:])
        #expect(text.hasSuffix("\n/devstoreaccount1/memory\ncomp:list\nmarker:a+b=\nrestype:container"))
    }

    @Test func aKeyThatIsNotBase64IsRejected() {
        #expect(throws: AzureSettingsError.invalidAccountKey(account: "acct")) {
            try SharedKeySigner(accountName: "acct", base64Key: "not base64!")
        }
    }
}
