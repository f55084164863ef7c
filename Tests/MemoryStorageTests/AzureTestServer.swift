import Crypto
import Foundation
import Logging
@testable import MemoryStorage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Blob-protocol test server (`Tests/blob-server/blob_server.py`, Python standard library only) running on a
/// free loopback port for one test. It exits when its stdin closes, so a crashed test run leaves nothing behind.
final class AzureTestServer {
    static let account = AzureStorageSettings.developmentAccountName
    static let key = AzureStorageSettings.developmentAccountKey
    static let wrongKey = "AAAA" + String(AzureStorageSettings.developmentAccountKey.dropFirst(4))

    let port: Int
    private let process: Process
    private let stdin: Pipe

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("blob-server/blob_server.py").path
    }

    init() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scriptPath, "--port", "0", "--exit-on-stdin-eof"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw StartFailure(description: "blob_server.py did not print its port (is python3 on PATH?)")
        }
        self.port = port
        self.process = process
        self.stdin = stdin
    }

    /// Set by ``keepStdinOpen()``: the server outlives this object.
    private var detached = false

    /// Lets the server run for the rest of the test process: returns a duplicate of its stdin's write end that is
    /// never closed, so the server exits only when the test process does.
    func keepStdinOpen() -> Int32 {
        detached = true
        return dup(stdin.fileHandleForWriting.fileDescriptor)
    }

    deinit {
        if detached { return }
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var blobEndpoint: String { "\(baseURL)/\(Self.account)" }

    /// A SharedKey connection string for this server (path-style).
    func connectionString(key: String = AzureTestServer.key) -> String {
        "DefaultEndpointsProtocol=http;AccountName=\(Self.account);AccountKey=\(key);BlobEndpoint=\(blobEndpoint);"
    }

    /// Fast retries so that fault tests stay short.
    static let fastRetry = AzureRetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50),
                                            requestTimeout: .seconds(30))

    func store(container: String = AzureTestServer.uniqueContainer(), setting: String? = nil,
               retry: AzureRetryPolicy = AzureTestServer.fastRetry) throws -> AzureBlobStore {
        try AzureBlobStore.make(setting: setting ?? connectionString(), container: container,
                                logger: Logger(label: "test.azure"), retry: retry, environment: [:])
    }

    static func uniqueContainer() -> String {
        "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
    }

    /// An account SAS for this server's account, signed like Azure's SDKs do.
    static func accountSAS(permissions: String, services: String = "b", resourceTypes: String = "co",
                           protocols: String = "https,http", expiry: Date = Date().addingTimeInterval(3600),
                           key: String = AzureTestServer.key) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let se = formatter.string(from: expiry)
        let version = "2021-08-06"
        let text = [account, permissions, services, resourceTypes, "", se, "", protocols, version, ""]
            .joined(separator: "\n") + "\n"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8),
                                                  using: SymmetricKey(data: Data(base64Encoded: key) ?? Data()))
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }
        return "sv=\(version)&ss=\(services)&srt=\(resourceTypes)&sp=\(permissions)&se=\(enc(se))&spr=\(enc(protocols))"
            + "&sig=\(enc(Data(mac).base64EncodedString()))"
    }

    // MARK: Admin endpoints

    struct LoggedRequest: Decodable, Equatable {
        var method: String
        var op: String
        var path: String
        var status: Int
    }

    /// Makes requests of operation `op` (`*` = any) fail. `mode` is `status` (answer `status`), `drop-before` /
    /// `drop-after` (cut the answer short, before or after applying the request), `reset-before` / `reset-after`
    /// (close without a byte), `incomplete-after` (apply, then answer without the ETag and append offset),
    /// `truncate-after` (apply, then half the body) or `delay` (answer `delay` seconds late). Without
    /// `probability` the next `count` matching requests fail; with it, each matching request fails with that
    /// probability (at most `count` times if given).
    func injectFault(op: String, mode: String = "status", status: Int = 503, count: Int? = 1, delay: Double = 0,
                     probability: Double? = nil) async throws {
        var body: [String: Any] = ["op": op, "mode": mode, "status": status, "delay": delay]
        if let count { body["count"] = count }
        if let probability { body["probability"] = probability }
        _ = try await admin("POST", "faults", body: try JSONSerialization.data(withJSONObject: body))
    }

    /// Removes every fault rule (blobs and the request log stay).
    func clearFaults() async throws {
        _ = try await admin("DELETE", "faults")
    }

    /// How many requests each fault rule has hit so far, in the order the rules were added.
    func faultHits() async throws -> [Int] {
        struct Rule: Decodable { var hits: Int }
        return try JSONDecoder().decode([Rule].self, from: try await admin("GET", "faults")).map(\.hits)
    }

    func requests() async throws -> [LoggedRequest] {
        try JSONDecoder().decode([LoggedRequest].self, from: try await admin("GET", "requests"))
    }

    func configureIdentity(secret: String, lifetime: Int, revoke: Bool = false) async throws {
        let body: [String: Any] = ["secret": secret, "lifetime": lifetime, "revoke": revoke]
        _ = try await admin("POST", "identity", body: try JSONSerialization.data(withJSONObject: body))
    }

    func identityFetches() async throws -> Int {
        struct Count: Decodable { var fetches: Int }
        return try JSONDecoder().decode(Count.self, from: try await admin("GET", "identity")).fetches
    }

    private func admin(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        guard let url = URL(string: "\(baseURL)/__admin/\(path)") else { throw StartFailure(description: "bad URL") }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw StartFailure(description: "admin \(method) \(path) failed: \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}
