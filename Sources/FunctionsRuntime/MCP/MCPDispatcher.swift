import Foundation
import JSONModel
import MemoryCore

/// Answers MCP JSON-RPC requests for one authenticated caller: `initialize`, `ping`, `tools/list`, `tools/call`;
/// notifications (`notifications/initialized`, `notifications/cancelled`, …) are accepted and need no answer.
/// Stateless: nothing is remembered between requests, so any instance can answer any request of a client.
struct MCPDispatcher: Sendable {
    let runner: MCPToolRunner

    /// Protocol revisions reachable through the `initialize` handshake, oldest first (the stateless 2026-07-28
    /// revision is ``MCPModernEnvelope``).
    static let protocolVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    static let serverName = "agentmemory"
    static let serverVersion = "1.0.0"

    /// The answer to one message (nil for a notification), and a short label for the request log. `header` reads
    /// the HTTP request's headers (the 2026-07-28 envelope mirrors the body in them).
    func answer(_ message: JSONRPCMessage, principal: Principal, context: RequestContext,
                header: (String) -> String? = { _ in nil }) async -> (JSONValue?, String) {
        if message.isNotification { return (nil, String(message.method.prefix(64))) }
        guard MCPModernEnvelope.isModern(message.params) else {
            return await answerHandshakeEra(message, principal: principal, context: context)
        }
        if let violation = MCPModernEnvelope.violation(message, header: header) { return (violation.json, "envelope") }
        let id = message.id ?? .null
        switch message.method {
        case "server/discover":
            return (JSONRPCMessage.result(id: id, MCPModernEnvelope.discoverResult(
                handshakeVersions: Self.protocolVersions, instructions: Self.instructions)), "server/discover")
        case "tools/list", "tools/call":
            let (answer, label) = await answerHandshakeEra(message, principal: principal, context: context)
            guard let answer, case .object(var o) = answer, let result = o["result"] else { return (answer, label) }
            o["result"] = MCPModernEnvelope.complete(result, cacheable: message.method == "tools/list")
            return (.object(o), label)
        default:
            return (JSONRPCError(id: id, code: JSONRPCError.methodNotFound,
                                 message: "method '\(message.method.prefix(64))' is not supported by this server").json,
                    "unsupported")
        }
    }

    /// Methods of the revisions reached through `initialize` (also the core of the 2026-07-28 ones).
    func answerHandshakeEra(_ message: JSONRPCMessage, principal: Principal, context: RequestContext) async -> (JSONValue?, String) {
        let id = message.id ?? .null
        switch message.method {
        case "initialize":
            return (JSONRPCMessage.result(id: id, initializeResult(message.params)), "initialize")
        case "ping":
            return (JSONRPCMessage.result(id: id, .object([:])), "ping")
        case "tools/list":
            return (JSONRPCMessage.result(id: id, .object(["tools": .array(MCPToolCatalog.tools.map(\.listing))])), "tools/list")
        case "tools/call":
            guard case .string(let name)? = message.params["name"] else {
                return (JSONRPCError(id: id, code: JSONRPCError.invalidParams, message: "tools/call needs `name`: the tool's name").json,
                        "tools/call")
            }
            guard let tool = MCPToolCatalog.tool(named: name) else {
                let names = MCPToolCatalog.tools.map(\.name).joined(separator: ", ")
                return (JSONRPCError(id: id, code: JSONRPCError.invalidParams,
                                     message: "unknown tool '\(name.prefix(64))'; the tools are \(names)").json,
                        "tools/call:unknown")
            }
            let arguments: [String: JSONValue]
            switch message.params["arguments"] {
            case nil, .null?: arguments = [:]
            case .object(let o)?: arguments = o
            default:
                return (JSONRPCError(id: id, code: JSONRPCError.invalidParams, message: "`arguments` must be an object").json,
                        "tools/call:\(name)")
            }
            let result = await runner.call(tool, arguments: arguments, principal: principal, context: context)
            return (JSONRPCMessage.result(id: id, result), "tools/call:\(name)")
        default:
            return (JSONRPCError(id: id, code: JSONRPCError.methodNotFound,
                                 message: "method '\(message.method.prefix(64))' is not supported by this server").json,
                    "unsupported")
        }
    }

    /// `initialize`: the client's protocol version when this server speaks it, else the newest one it does.
    func initializeResult(_ params: [String: JSONValue]) -> JSONValue {
        let requested = params["protocolVersion"]?.stringValue ?? ""
        let version = Self.protocolVersions.contains(requested) ? requested : Self.protocolVersions.last!
        return .object([
            "protocolVersion": .string(version),
            "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
            "serverInfo": .object(["name": .string(Self.serverName), "title": .string("AgentMemory"),
                                   "version": .string(Self.serverVersion)]),
            "instructions": .string(Self.instructions),
        ])
    }

    static let instructions = "Long-term memory. Before answering, call search_memories with the user's message and the "
        + "user_id; put its memory_block into your context. After answering, call add_memories with the new messages."
}
