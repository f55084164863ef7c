import Foundation
import Hummingbird
import JSONModel
import MemoryCore

/// The Streamable HTTP transport of the MCP endpoint (`/mcp`), stateless: every `POST` carries one JSON-RPC
/// message (or a batch) and is answered with `application/json` (a request) or `202 Accepted` (notifications
/// only). No session is issued or needed; `GET` (a server-to-client stream) and `DELETE` (ending a session) answer
/// 405. The router's route for it (``APIRoutes/registerMCP(on:role:authenticator:endpoint:)``) authenticates the
/// caller first (same credentials as the REST routes) and reads the body under the same limit; protocol faults
/// are JSON-RPC errors, tool failures are tool results with `isError: true`, and nothing a client sends is a 5xx.
public struct MCPHTTPEndpoint: HTTPResponder {
    public typealias Context = MemoryRequestContext
    let dispatcher: MCPDispatcher

    public init(service: ServiceHandle) {
        dispatcher = MCPDispatcher(runner: MCPToolRunner(service: service))
    }

    /// Answers one HTTP request to `/mcp` for the caller ``AuthMiddleware`` found; the log line's route names the
    /// JSON-RPC method (and tool): `mcp:tools/call:search_memories`, `mcp:batch(ping,tools/list)`, `mcp:GET`.
    public func respond(to request: Request, context: Context) async throws -> Response {
        /// A transport refusal, labelled for the log line.
        func refuse(_ label: String, _ error: APIError) -> APIError {
            context.log.update { $0.route = label }
            return error
        }
        guard request.method == .post else {
            throw refuse("mcp:\(request.method.rawValue.prefix(16))", APIError(
                status: .methodNotAllowed, code: "method_not_allowed",
                detail: "this MCP server is stateless and answers POST only (no GET stream, no sessions to DELETE)",
                headers: ["Allow": "POST"]))
        }
        if let type = request.headers[.contentType] {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" else {
                throw refuse("mcp:media_type", APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                                                        detail: "MCP messages must be sent as 'Content-Type: application/json'"))
            }
        }
        if let accept = request.headers[.accept]?.lowercased(), !accept.contains("application/json"),
           !accept.contains("*/*"), !accept.contains("application/*") {
            throw refuse("mcp:accept", APIError(status: .notAcceptable, code: "not_acceptable",
                                                detail: "this MCP server answers with application/json; add it to the Accept header"))
        }
        guard let principal = context.principal else {
            throw APIError(status: .internalServerError, code: "internal_error",
                           detail: "the MCP endpoint was reached without authentication; quote request id \(context.requestId) to the operator")
        }
        let body = try await request.body.collect(upTo: .max)
        let (response, label) = await answer(Data(body.readableBytesView), headers: request.headers,
                                             principal: principal, requestId: context.requestId)
        context.log.update { $0.route = label }
        return response
    }

    /// The answer to a `POST` body of JSON-RPC for `principal`, and its label for the request log. `headers`
    /// are the request's (`MCP-Protocol-Version`, and the 2026-07-28 envelope's mirrors of the body).
    func answer(_ body: Data, headers: HTTPFields, principal: Principal, requestId: String) async -> (Response, String) {
        let json: JSONValue
        do {
            json = try JSONCoding.decoder.decode(JSONValue.self, from: body)
        } catch {
            let e = JSONRPCError(id: .null, code: JSONRPCError.parseError, message: "the body is not valid JSON")
            return (Self.reply(e.json, status: .badRequest), "mcp:parse_error")
        }
        if let version = headers[.mcpProtocolVersion], !MCPDispatcher.protocolVersions.contains(version),
           !Self.isHandshakeOrProbe(json) {
            let e = JSONRPCError(id: .null, code: JSONRPCError.invalidRequest,
                                 message: "unsupported MCP-Protocol-Version '\(version.prefix(40))'; this server speaks "
                                     + MCPDispatcher.protocolVersions.joined(separator: ", "))
            return (Self.reply(e.json, status: .badRequest), "mcp:protocol_version")
        }
        let context = MemoryCore.RequestContext(principal: principal, requestId: requestId)
        let header: (String) -> String? = { name in HTTPField.Name(name).flatMap { headers[$0] } }
        switch json {
        case .array(let items):
            guard !items.isEmpty else {
                let e = JSONRPCError(id: .null, code: JSONRPCError.invalidRequest, message: "an empty batch")
                return (Self.reply(e.json, status: .badRequest), "mcp:batch")
            }
            var answers: [JSONValue] = []
            var labels: [String] = []
            for item in items {
                let (answer, label) = await one(item, principal: principal, context: context, header: header)
                if let answer { answers.append(answer) }
                labels.append(label)
            }
            let label = "mcp:batch(\(labels.prefix(5).joined(separator: ",")))"
            return answers.isEmpty ? (Response(status: .accepted), label) : (Self.reply(.array(answers)), label)
        default:
            let (answer, label) = await one(json, principal: principal, context: context, header: header)
            guard let answer else { return (Response(status: .accepted), "mcp:\(label)") }
            return (Self.reply(answer), "mcp:\(label)")
        }
    }

    func one(_ json: JSONValue, principal: Principal, context: MemoryCore.RequestContext,
             header: (String) -> String?) async -> (JSONValue?, String) {
        if JSONRPCMessage.isResponse(json) { return (nil, "response") }
        do {
            let message = try JSONRPCMessage(json)
            return await dispatcher.answer(message, principal: principal, context: context, header: header)
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

    static func reply(_ json: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response.json(json, status: status)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HTTPField.Name {
    static let mcpProtocolVersion = HTTPField.Name("MCP-Protocol-Version")!
}
