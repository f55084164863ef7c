import Foundation
import JSONModel

/// One JSON-RPC 2.0 message as the MCP endpoint reads it: a request (with `id`), or a notification (without).
/// Responses sent by a client (to server-initiated requests, which this server never makes) are ignored.
struct JSONRPCMessage: Sendable {
    /// The request id (a string or a number), or nil for a notification.
    var id: JSONValue?
    var method: String
    var params: [String: JSONValue]

    var isNotification: Bool { id == nil }

    /// Parses one message; a malformed one is a ``JSONRPCError`` to answer with (id null when unknown).
    init(_ json: JSONValue) throws(JSONRPCError) {
        guard case .object(let o) = json else {
            throw JSONRPCError(id: .null, code: JSONRPCError.invalidRequest, message: "a JSON-RPC message must be an object")
        }
        let id = o["id"]
        if let id, !Self.isValidId(id) {
            throw JSONRPCError(id: .null, code: JSONRPCError.invalidRequest, message: "`id` must be a string or a number")
        }
        guard o["jsonrpc"]?.stringValue == "2.0" else {
            throw JSONRPCError(id: id ?? .null, code: JSONRPCError.invalidRequest, message: "`jsonrpc` must be \"2.0\"")
        }
        guard case .string(let method)? = o["method"] else {
            throw JSONRPCError(id: id ?? .null, code: JSONRPCError.invalidRequest, message: "`method` must be a string")
        }
        var params: [String: JSONValue] = [:]
        switch o["params"] {
        case nil, .null?: break
        case .object(let p)?: params = p
        default:
            throw JSONRPCError(id: id ?? .null, code: JSONRPCError.invalidParams, message: "`params` must be an object")
        }
        self.id = id
        self.method = method
        self.params = params
    }

    /// True for an object that is a response (`result` or `error`, no `method`): a client's answer, not a call.
    static func isResponse(_ json: JSONValue) -> Bool {
        guard case .object(let o) = json else { return false }
        return o["method"] == nil && (o["result"] != nil || o["error"] != nil)
    }

    static func isValidId(_ id: JSONValue) -> Bool {
        switch id {
        case .string, .number: true
        default: false
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}`.
    static func result(id: JSONValue, _ result: JSONValue) -> JSONValue {
        .object(["jsonrpc": .string("2.0"), "id": id, "result": result])
    }
}

/// A JSON-RPC error answer: a protocol fault (bad message, unknown method or tool, bad params), never a tool's own
/// failure (those are tool results with `isError: true`).
struct JSONRPCError: Error, Sendable {
    static let parseError = -32700
    static let invalidRequest = -32600
    static let methodNotFound = -32601
    static let invalidParams = -32602
    static let internalError = -32603

    var id: JSONValue
    var code: Int
    var message: String
    var data: JSONValue? = nil

    var json: JSONValue {
        var error: [String: JSONValue] = ["code": .number(Double(code)), "message": .string(message)]
        if let data { error["data"] = data }
        return .object(["jsonrpc": .string("2.0"), "id": id, "error": .object(error)])
    }
}
