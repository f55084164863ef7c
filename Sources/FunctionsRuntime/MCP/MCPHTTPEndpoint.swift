import Foundation
import MemoryCore
import MemoryStorage

/// The Streamable HTTP transport of the MCP endpoint (`/mcp`), stateless: every `POST` carries one JSON-RPC
/// message (or a batch) and is answered with `application/json` (a request) or `202 Accepted` (notifications
/// only). No session is issued or needed; `GET` (a server-to-client stream) and `DELETE` (ending a session) answer
/// 405. The caller is authenticated before (same credentials as the REST routes); protocol faults are JSON-RPC
/// errors, tool failures are tool results with `isError: true`, and nothing a client sends is a 5xx.
public struct MCPHTTPEndpoint: Sendable {
    let dispatcher: MCPDispatcher

    public init(service: ServiceHandle) {
        dispatcher = MCPDispatcher(runner: MCPToolRunner(service: service))
    }

    /// True for the endpoint's path: `/mcp`, also under `/api` and with a trailing slash.
    public static func matches(_ path: String) -> Bool {
        RouteTable.segments(of: path).map { $0.lowercased() } == ["mcp"]
    }

    /// Answers one HTTP request to `/mcp` for an authenticated caller; the label names the JSON-RPC method (and
    /// tool) for the request log.
    public func respond(_ request: APIRequest, principal: Principal, requestId: String) async -> (APIResponse, String) {
        guard request.method == "POST" else {
            let e = APIError(status: 405, code: "method_not_allowed",
                             detail: "this MCP server is stateless and answers POST only (no GET stream, no sessions to DELETE)",
                             headers: ["Allow": "POST"])
            return (e.response(requestId: requestId), "mcp:\(request.method)")
        }
        if let type = request.header("content-type") {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" else {
                let e = APIError(status: 415, code: "unsupported_media_type",
                                 detail: "MCP messages must be sent as 'Content-Type: application/json'")
                return (e.response(requestId: requestId), "mcp:media_type")
            }
        }
        if let accept = request.header("accept")?.lowercased(), !accept.contains("application/json"),
           !accept.contains("*/*"), !accept.contains("application/*") {
            let e = APIError(status: 406, code: "not_acceptable",
                             detail: "this MCP server answers with application/json; add it to the Accept header")
            return (e.response(requestId: requestId), "mcp:accept")
        }
        let json: JSONValue
        do {
            json = try JSONCoding.decoder.decode(JSONValue.self, from: request.body)
        } catch {
            let e = JSONRPCError(id: .null, code: JSONRPCError.parseError, message: "the body is not valid JSON")
            return (Self.reply(e.json, status: 400), "mcp:parse_error")
        }
        if let version = request.header("mcp-protocol-version"), !MCPDispatcher.protocolVersions.contains(version),
           !Self.isHandshakeOrProbe(json) {
            let e = JSONRPCError(id: .null, code: JSONRPCError.invalidRequest,
                                 message: "unsupported MCP-Protocol-Version '\(version.prefix(40))'; this server speaks "
                                     + MCPDispatcher.protocolVersions.joined(separator: ", "))
            return (Self.reply(e.json, status: 400), "mcp:protocol_version")
        }
        let context = RequestContext(principal: principal, requestId: requestId)
        switch json {
        case .array(let items):
            guard !items.isEmpty else {
                let e = JSONRPCError(id: .null, code: JSONRPCError.invalidRequest, message: "an empty batch")
                return (Self.reply(e.json, status: 400), "mcp:batch")
            }
            var answers: [JSONValue] = []
            var labels: [String] = []
            for item in items {
                let (answer, label) = await one(item, request: request, principal: principal, context: context)
                if let answer { answers.append(answer) }
                labels.append(label)
            }
            let label = "mcp:batch(\(labels.prefix(5).joined(separator: ",")))"
            return answers.isEmpty ? (APIResponse(status: 202), label) : (Self.reply(.array(answers)), label)
        default:
            let (answer, label) = await one(json, request: request, principal: principal, context: context)
            guard let answer else { return (APIResponse(status: 202), "mcp:\(label)") }
            return (Self.reply(answer), "mcp:\(label)")
        }
    }

    func one(_ json: JSONValue, request: APIRequest, principal: Principal, context: RequestContext) async -> (JSONValue?, String) {
        if JSONRPCMessage.isResponse(json) { return (nil, "response") }
        do {
            let message = try JSONRPCMessage(json)
            return await dispatcher.answer(message, principal: principal, context: context, header: { request.header($0) })
        } catch {
            return (error.json, "invalid")
        }
    }

    /// Messages whose version is not the header's business here: `initialize` carries it in the body, the
    /// 2026-07-28 envelope in `params._meta` (checked by ``MCPModernEnvelope``), and unknown methods get -32601.
    static func isHandshakeOrProbe(_ json: JSONValue) -> Bool {
        guard let method = json["method"]?.stringValue else { return false }
        if case .object(let params)? = json["params"], MCPModernEnvelope.isModern(params) { return true }
        return method == "initialize" || !["ping", "tools/list", "tools/call"].contains(method)
    }

    static func reply(_ json: JSONValue, status: Int = 200) -> APIResponse {
        var response = APIResponse.json(json, status: status)
        response.headers["Cache-Control"] = "no-store"
        return response
    }
}
