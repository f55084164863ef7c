import Foundation
import FunctionsRuntime
import Hummingbird
import HummingbirdTesting
import JSONModel
import Logging
import MemoryStorage

/// Keys used by the route tests, with the `MEMORY_API_KEYS` value holding their hashes.
enum TestKeys {
    static let acmeWrite = "acme-write-key"
    static let acmeRead = "acme-read-key"
    static let acmeAdmin = "acme-admin-key"
    static let otherWrite = "other-write-key"
    static var setting: String {
        [("acme", "write", acmeWrite), ("acme", "read", acmeRead), ("acme", "admin", acmeAdmin), ("other", "write", otherWrite)]
            .map { "\($0.0):\($0.1):\(APIKeyTable.hash(key: $0.2))" }.joined(separator: ";")
    }
}

/// Collects log lines written by ``JSONLogHandler``. `lock` guards `lines`.
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [Data] = []

    var sink: LogSink { LogSink { [self] data in lock.lock(); lines.append(data); lock.unlock() } }

    /// Every line parsed as a JSON object (a line that is not one fails the caller's expectation).
    func objects() -> [[String: String]?] {
        lock.lock(); defer { lock.unlock() }
        return lines.map { try? JSONDecoder().decode([String: String].self, from: $0) }
    }
}

/// Builds a handler app for a role and environment, on a given backend.
func makeApp(role: HandlerRole = .local, environment: [String: String] = [:], backend: any MemoryBackend = EchoBackend(),
             logs: LogCollector = LogCollector()) throws -> Application<HandlerResponder> {
    let config = try RuntimeConfiguration(environment: environment)
    let logger = Logger(label: "test") { label in JSONLogHandler(label: label, level: .info, sink: logs.sink) }
    let server = HandlerServer(configuration: config, role: role, logger: logger) { backend }
    return server.application(port: 0)
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body string and API key; returns status and parsed JSON body.
    func call(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, key: String? = nil,
              headers extra: [String: String] = [:]) async throws -> (status: Int, json: JSONValue, headers: HTTPFields) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Token \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        for (k, v) in extra { headers[HTTPFields.Element.Name(k)!] = v }
        let buffer = body.map { ByteBuffer(string: $0) }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer) { response in
            let data = Data(response.body.readableBytesView)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .string(String(decoding: data, as: UTF8.self))
            return (Int(response.status.code), json, response.headers)
        }
    }
}
