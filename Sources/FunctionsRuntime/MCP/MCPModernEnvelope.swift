import Foundation
import JSONModel

/// The stateless per-request envelope of MCP revision `2026-07-28` (no `initialize`: every request carries its
/// protocol version and client capabilities in `params._meta`, mirrored in the `MCP-Protocol-Version`,
/// `Mcp-Method` and `Mcp-Name` headers). Clients probe it with `server/discover`; older clients never send it.
///
/// Checks, first failure wins (as the official SDKs do): `_meta` carries the version and the capabilities
/// (`-32602`); the headers agree with the body (`-32020`); the version is one this server speaks (`-32022` with
/// `data.supported`). Results then carry `resultType: "complete"`, and the cacheable ones (`server/discover`,
/// `tools/list`) `ttlMs: 0` and `cacheScope: "private"` (answers depend on the caller's credential).
enum MCPModernEnvelope {
    static let versions = ["2026-07-28"]
    static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let serverInfoKey = "io.modelcontextprotocol/serverInfo"
    static let headerMismatch = -32020
    static let unsupportedProtocolVersion = -32022

    /// Whether a message uses the envelope: its `params._meta` names a protocol version.
    static func isModern(_ params: [String: JSONValue]) -> Bool {
        params["_meta"]?[protocolVersionKey] != nil
    }

    /// The JSON-RPC error for a request that breaks the envelope's rules, or nil when it is fine.
    static func violation(_ message: JSONRPCMessage, header: (String) -> String?) -> JSONRPCError? {
        let id = message.id ?? .null
        guard case .object(let meta)? = message.params["_meta"], let version = meta[protocolVersionKey],
              meta[clientCapabilitiesKey] != nil else {
            return JSONRPCError(id: id, code: JSONRPCError.invalidParams,
                                message: "params._meta must carry '\(protocolVersionKey)' and '\(clientCapabilitiesKey)'")
        }
        guard let headerVersion = header("mcp-protocol-version"), .string(headerVersion) == version else {
            return JSONRPCError(id: id, code: headerMismatch,
                                message: "the MCP-Protocol-Version header does not match params._meta's protocol version")
        }
        guard header("mcp-method") == message.method else {
            return JSONRPCError(id: id, code: headerMismatch, message: "the Mcp-Method header does not match the method")
        }
        if message.method == "tools/call", case .string(let name)? = message.params["name"],
           decodeHeaderValue(header("mcp-name")) != name {
            return JSONRPCError(id: id, code: headerMismatch, message: "the Mcp-Name header does not match the tool name")
        }
        guard case .string(let requested) = version else {
            return JSONRPCError(id: id, code: JSONRPCError.invalidParams, message: "the protocol version must be a string")
        }
        guard versions.contains(requested) else {
            return JSONRPCError(id: id, code: unsupportedProtocolVersion, message: "Unsupported protocol version",
                                data: .object(["supported": .array(versions.map { .string($0) }), "requested": .string(requested)]))
        }
        return nil
    }

    /// A result as this revision answers it.
    static func complete(_ result: JSONValue, cacheable: Bool) -> JSONValue {
        guard case .object(var o) = result else { return result }
        o["resultType"] = .string("complete")
        if cacheable {
            o["ttlMs"] = .number(0)
            o["cacheScope"] = .string("private")
        }
        return .object(o)
    }

    /// `server/discover`: every revision this server speaks, its capabilities and identity.
    static func discoverResult(handshakeVersions: [String], instructions: String) -> JSONValue {
        complete(.object([
            "supportedVersions": .array((handshakeVersions + versions).map { .string($0) }),
            "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
            "instructions": .string(instructions),
            "_meta": .object([serverInfoKey: .object([
                "name": .string(MCPDispatcher.serverName), "title": .string("AgentMemory"),
                "version": .string(MCPDispatcher.serverVersion),
            ])]),
        ]), cacheable: true)
    }

    /// A header value, decoding the `=?base64?…?=` form clients use for non-ASCII values.
    static func decodeHeaderValue(_ value: String?) -> String? {
        guard let value, value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let payload = String(value.dropFirst(9).dropLast(2))
        guard let data = Data(base64Encoded: payload), data.base64EncodedString() == payload else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
