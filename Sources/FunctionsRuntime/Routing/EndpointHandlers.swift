import Foundation
import JSONModel
import MemoryCore

/// What ``EndpointHandlers`` reads of a routed request: the decoded query, the body bytes and their type.
struct EndpointInput: Sendable {
    /// Query parameters, percent-decoded (``QueryString/parse(_:)``).
    var query: [String: String]
    /// The raw body (empty when none was sent), already limited by ``BodyLimitMiddleware``.
    var body: Data
    /// The `Content-Type` header, if sent.
    var contentType: String?
}

/// Turns a routed request into one ``MemoryBackend`` call: parses the body and path parameters into the
/// service's typed requests (400s name the field) and returns the answer as ``ResponseEncoding`` writes it.
/// The only place that knows which backend call an ``Endpoint`` is.
struct EndpointHandlers: Sendable {
    let handle: ServiceHandle

    func run(_ endpoint: Endpoint, parameters: [String: String], request: EndpointInput,
             principal: Principal, context: RequestContext) async throws -> JSONValue {
        switch endpoint {
        case .ping:
            return .object([
                "status": .string("ok"),
                "org_id": .string(principal.tenant),
                "project_id": .string(principal.tenant),
                "user_email": .null,
                "role": .string(principal.role.description),
            ])
        case .compactNow:
            // Compaction runs over the whole tenant, outside the service calls that keep a bound credential to its
            // user (BoundUserRule), so such a credential is refused here.
            guard principal.boundUserId == nil else {
                throw APIError(status: .forbidden, code: "user_scope_required",
                               detail: "this credential is bound to one user_id; compacting the tenant needs an unbound credential")
            }
            // The body is not read: compaction of the caller's tenant takes no options.
            let backend = try await handle.backend()
            let summary = await backend.compactAll(tenant: principal.tenant)
            guard summary.failed == 0 else {
                throw APIError(status: 503, code: "compaction_failed",
                               detail: "\(summary.headline); " + summary.messages.filter { $0.contains("failed") }
                                   .prefix(5).joined(separator: "; ") + "; nothing was lost, retry later")
            }
            return ResponseEncoding.json(summary)
        default:
            break
        }
        let backend = try await handle.backend()
        switch endpoint {
        case .add:
            return ResponseEncoding.json(try await backend.add(AddRequest(json: try Self.jsonBody(request)), context))
        case .search:
            return ResponseEncoding.json(try await backend.search(SearchRequest(json: try Self.jsonBody(request)), context))
        case .list:
            let list = try ListRequest(json: try Self.jsonBody(request), query: request.query)
            return ResponseEncoding.json(try await backend.list(list, context))
        case .get:
            return ResponseEncoding.json(try await backend.get(try Self.memoryId(parameters), context))
        case .update:
            let id = try Self.memoryId(parameters)
            return ResponseEncoding.json(try await backend.update(id, UpdateRequest(json: try Self.jsonBody(request)), context))
        case .delete:
            return ResponseEncoding.json(try await backend.delete(try Self.memoryId(parameters), context))
        case .history:
            return ResponseEncoding.json(try await backend.history(try Self.memoryId(parameters), context))
        case .deleteAll:
            return ResponseEncoding.json(try await backend.deleteAll(DeleteAllRequest(query: request.query), context))
        case .batchUpdate:
            return ResponseEncoding.json(try await backend.batchUpdate(BatchUpdateRequest(json: try Self.jsonBody(request)), context))
        case .batchDelete:
            return ResponseEncoding.json(try await backend.batchDelete(BatchDeleteRequest(json: try Self.jsonBody(request)), context))
        case .entities:
            return ResponseEncoding.json(try await backend.entities(context))
        case .deleteEntity:
            let entity = try EntityReference(type: parameters["type"] ?? "", id: parameters["id"] ?? "")
            return ResponseEncoding.json(try await backend.deleteEntity(entity, context))
        case .exportCreate:
            return ResponseEncoding.json(try await backend.createExport(ExportRequest(json: try Self.jsonBody(request)), context))
        case .exportGet:
            return ResponseEncoding.json(try await backend.getExport(ExportLookup(json: try Self.jsonBody(request)), context))
        case .ping, .compactNow:
            return .null
        }
    }

    /// The body as JSON; an empty body is `{}` so the request parsers report the missing field by name. A body
    /// sent with a Content-Type other than JSON (`application/json`, `…+json`) is refused with 415; a body
    /// without a Content-Type is read as JSON.
    static func jsonBody(_ request: EndpointInput) throws(APIError) -> JSONValue {
        let trimmed = request.body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if trimmed.isEmpty { return .object([:]) }
        if let type = request.contentType {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json")) else {
                throw APIError(status: 415, code: "unsupported_media_type",
                               detail: "the body must be JSON sent as 'Content-Type: application/json', got '\(type.prefix(80))'")
            }
        }
        do {
            return try JSONCoding.decoder.decode(JSONValue.self, from: request.body)
        } catch let DecodingError.dataCorrupted(context) {
            throw APIError.invalidJSON(context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch {
            throw APIError.invalidJSON("\(error)")
        }
    }

    static func memoryId(_ parameters: [String: String]) throws(MemoryServiceError) -> UUID {
        try parseMemoryId(parameters["id"] ?? "")
    }
}
