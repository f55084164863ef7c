import Foundation
import JSONModel
import MemoryCore

/// Runs one MCP tool call: checks the caller's role, turns the arguments into the same typed service requests the
/// REST routes build, calls the backend, and wraps the answer, encoded by ``ResponseEncoding`` as the REST routes
/// encode it, as a `tools/call` result. Every failure (bad
/// arguments, a forbidden scope, an unknown memory, an unavailable service) is a tool result with
/// `isError: true` and the error's code and detail, never a JSON-RPC fault.
struct MCPToolRunner: Sendable {
    let service: ServiceHandle

    /// Default token budget of `search_memories`' `memory_block`.
    static let defaultMemoryBlockTokens = 1000

    func call(_ tool: MCPTool, arguments: [String: JSONValue], principal: Principal,
              context: RequestContext) async -> JSONValue {
        do {
            guard principal.role >= tool.endpoint.requiredRole else {
                throw APIError(status: 403, code: "forbidden",
                               detail: "this credential has the \(principal.role) role; \(tool.name) needs \(tool.endpoint.requiredRole)")
            }
            let answer = try await run(tool, arguments: Self.withBoundUser(arguments, tool: tool, principal: principal),
                                       context: context)
            return Self.success(answer)
        } catch let error as APIError {
            return Self.failure(code: error.code, detail: error.detail)
        } catch let error as MemoryServiceError {
            return Self.failure(code: error.code, detail: error.detail)
        } catch {
            return Self.failure(code: "internal_error",
                                detail: "an unexpected error occurred; quote request id \(context.requestId) to the operator")
        }
    }

    func run(_ tool: MCPTool, arguments a: [String: JSONValue], context: RequestContext) async throws -> JSONValue {
        let backend = try await service.backend()
        switch tool.endpoint {
        case .add:
            var body = a
            if body["messages"] == nil, let text = body.removeValue(forKey: "text") {
                body["messages"] = .array([.object(["role": .string("user"), "content": text])])
            } else if body["messages"] != nil, body["text"] != nil {
                throw APIError(status: 400, code: "invalid_field", detail: "send either `messages` or `text`, not both")
            }
            return ResponseEncoding.json(try await backend.add(AddRequest(json: .object(body)), context))
        case .search:
            var body = a
            if body["max_tokens"] == nil { body["max_tokens"] = .number(Double(Self.defaultMemoryBlockTokens)) }
            return ResponseEncoding.json(try await backend.search(SearchRequest(json: .object(body)), context))
        case .list:
            return ResponseEncoding.json(try await backend.list(ListRequest(json: .object(a)), context))
        case .get:
            return ResponseEncoding.json(try await backend.get(try Self.memoryId(a), context))
        case .update:
            var body = a
            body["memory_id"] = nil
            let id = try Self.memoryId(a)
            return ResponseEncoding.json(try await backend.update(id, UpdateRequest(json: .object(body)), context))
        case .delete:
            return ResponseEncoding.json(try await backend.delete(try Self.memoryId(a), context))
        case .history:
            return ResponseEncoding.json(try await backend.history(try Self.memoryId(a), context))
        default:
            throw APIError(status: 400, code: "unknown_tool", detail: "no tool \(tool.name)")
        }
    }

    /// A credential bound to one user may leave `user_id` out of add, search and list: it is that user.
    static func withBoundUser(_ arguments: [String: JSONValue], tool: MCPTool, principal: Principal) -> [String: JSONValue] {
        guard let bound = principal.boundUserId, [.add, .search, .list].contains(tool.endpoint),
              arguments["user_id"] == nil else { return arguments }
        var out = arguments
        out["user_id"] = .string(bound)
        return out
    }

    static func memoryId(_ arguments: [String: JSONValue]) throws -> UUID {
        guard case .string(let s)? = arguments["memory_id"] else {
            throw MemoryServiceError.invalid("`memory_id` is required: the memory's id (a UUID string)", code: "missing_memory_id")
        }
        return try parseMemoryId(s)
    }

    /// The result of a call that worked: the answer as JSON text, and as `structuredContent` when it is an object.
    static func success(_ answer: JSONValue) -> JSONValue {
        var content: [JSONValue] = []
        if case .string(let block)? = answer["memory_block"] {
            content.append(.object(["type": .string("text"), "text": .string(block.isEmpty ? "(no relevant memories)" : block)]))
        }
        content.append(.object(["type": .string("text"), "text": .string(String(decoding: answer.encoded(), as: UTF8.self))]))
        var result: [String: JSONValue] = ["content": .array(content), "isError": .bool(false)]
        if case .object = answer { result["structuredContent"] = answer } else {
            result["structuredContent"] = .object(["results": answer])
        }
        return .object(result)
    }

    /// The result of a call that failed: `isError: true` and one text naming the error code and what to do.
    static func failure(code: String, detail: String) -> JSONValue {
        .object([
            "content": .array([.object(["type": .string("text"), "text": .string("\(code): \(detail)")])]),
            "isError": .bool(true),
        ])
    }
}
