import Foundation
import JSONModel

/// One MCP tool: its name, description, JSON input schema, and the REST endpoint whose role rule and service call
/// it shares (so a tool needs exactly the role its REST route needs).
struct MCPTool: Sendable {
    var name: String
    var title: String
    var description: String
    var inputSchema: JSONValue
    var endpoint: Endpoint

    /// The `tools/list` entry.
    var listing: JSONValue {
        let readOnly = endpoint.requiredRole == .read
        return .object([
            "name": .string(name), "title": .string(title), "description": .string(description),
            "inputSchema": inputSchema,
            "annotations": .object([
                "title": .string(title), "readOnlyHint": .bool(readOnly),
                "destructiveHint": .bool(endpoint == .delete || endpoint == .update),
                "idempotentHint": .bool(readOnly || endpoint == .delete), "openWorldHint": .bool(false),
            ]),
        ])
    }
}

/// The memory tools the MCP endpoint offers: add, search, get, list, update, delete, history.
enum MCPToolCatalog {
    static let tools: [MCPTool] = [
        MCPTool(
            name: "add_memories", title: "Add memories",
            description: "Store new memories for a user, agent, app or run. Send the conversation turn as `messages` "
                + "(or one `text`); with `infer` the service extracts durable facts and reconciles them with what it "
                + "already knows. Name at least one of user_id, agent_id, app_id, run_id. Answers the memories "
                + "added, updated or deleted, with their ids.",
            inputSchema: schema([
                "messages": .object([
                    "type": .string("array"), "description": .string("The conversation turn to remember, oldest first."),
                    "items": .object([
                        "type": .string("object"),
                        "properties": .object([
                            "role": .object(["type": .string("string"), "enum": .array(["user", "assistant", "system"].map { .string($0) }),
                                             "description": .string("Who said it.")]),
                            "content": .object(["type": .string("string"), "description": .string("What was said.")]),
                        ]),
                        "required": .array([.string("role"), .string("content")]),
                    ]),
                ]),
                "text": prop("string", "One fact to remember verbatim (instead of `messages`)."),
                "metadata": .object(["type": .string("object"), "description": .string("Metadata stored with every memory (custom keys such as ticket_id are filterable).")]),
                "infer": prop("boolean", "Extract and reconcile facts with the configured model (default true); false stores the messages verbatim."),
                "expiration_date": prop("string", "When the memories expire (ISO-8601 date or date-time)."),
            ].merging(scopeProperties) { a, _ in a }, required: []),
            endpoint: .add),
        MCPTool(
            name: "search_memories", title: "Search memories",
            description: "Find the memories most relevant to a query for a user (or agent, app, run), before answering. "
                + "Answers `memory_block` (a prompt-ready Memory section, at most `max_tokens`) and `results` (the "
                + "hits with id, memory, score and scopes).",
            inputSchema: schema([
                "query": prop("string", "What to look for, usually the user's latest message."),
                "filters": filtersProperty,
                "top_k": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(1000), "description": .string("How many hits at most (default 10).")]),
                "threshold": .object(["type": .string("number"), "minimum": .number(0), "maximum": .number(1), "description": .string("Minimum score of a hit (default 0.1).")]),
                "max_tokens": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(100_000), "description": .string("Token budget of `memory_block` (default 1000).")]),
            ].merging(scopeProperties) { a, _ in a }, required: ["query"]),
            endpoint: .search),
        MCPTool(
            name: "get_memory", title: "Get a memory",
            description: "Read one memory by its id.",
            inputSchema: schema(["memory_id": memoryIdProperty], required: ["memory_id"]),
            endpoint: .get),
        MCPTool(
            name: "list_memories", title: "List memories",
            description: "List the memories of a user (or agent, app, run), newest first, one page at a time.",
            inputSchema: schema([
                "filters": filtersProperty,
                "page": .object(["type": .string("integer"), "minimum": .number(1), "description": .string("Page number, from 1 (default 1).")]),
                "page_size": .object(["type": .string("integer"), "minimum": .number(1), "maximum": .number(1000), "description": .string("Memories per page (default 100).")]),
            ].merging(scopeProperties) { a, _ in a }, required: []),
            endpoint: .list),
        MCPTool(
            name: "update_memory", title: "Update a memory",
            description: "Replace a memory's text (the old text stays in its history) and/or merge metadata (a key set to null is removed).",
            inputSchema: schema([
                "memory_id": memoryIdProperty,
                "text": prop("string", "The new text."),
                "metadata": .object(["type": .string("object"), "description": .string("Metadata keys to set (null removes a key).")]),
            ], required: ["memory_id"]),
            endpoint: .update),
        MCPTool(
            name: "delete_memory", title: "Delete a memory",
            description: "Erase one memory by its id (gone from reads at once; its history keeps the events without text).",
            inputSchema: schema(["memory_id": memoryIdProperty], required: ["memory_id"]),
            endpoint: .delete),
        MCPTool(
            name: "memory_history", title: "Memory history",
            description: "The changes of one memory, oldest first (ADD, UPDATE, DELETE with old and new text).",
            inputSchema: schema(["memory_id": memoryIdProperty], required: ["memory_id"]),
            endpoint: .history),
    ]

    static func tool(named name: String) -> MCPTool? { tools.first { $0.name == name } }

    static let scopeProperties: [String: JSONValue] = [
        "user_id": prop("string", "The end user the memories belong to."),
        "agent_id": prop("string", "The agent; alone it means every memory this agent wrote, for all users."),
        "app_id": prop("string", "The application."),
        "run_id": prop("string", "One run or session."),
    ]

    static let memoryIdProperty = prop("string", "The memory's id (a UUID, as returned by add, search or list).")

    static let filtersProperty: JSONValue = .object([
        "type": .string("object"),
        "description": .string("Mem0 filters: equality or operators (eq ne gt gte lt lte in nin contains icontains) over "
            + "user_id, agent_id, app_id, run_id, created_at, updated_at, categories and metadata keys, nested with AND / OR / NOT. "
            + "The top-level scope ids are added to them."),
    ])

    static func prop(_ type: String, _ description: String) -> JSONValue {
        .object(["type": .string(type), "description": .string(description)])
    }

    static func schema(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        .object(["type": .string("object"), "properties": .object(properties),
                 "required": .array(required.map { .string($0) }), "additionalProperties": .bool(false)])
    }
}
