import Foundation

/// Maps a Blob REST error answer onto ``BlobStoreError``, so the engine reacts to Azure exactly as to the folder
/// backend.
enum AzureErrorMapping {
    /// - Parameters:
    ///   - response: a non-success answer.
    ///   - name: the blob (or container) the request was about.
    ///   - createOnly: the request carried `If-None-Match: *`, so a `412` means "already exists".
    ///   - expectedPosition: the request's `x-ms-blob-condition-appendpos`, if any.
    static func error(for response: AzureResponse, name: String, createOnly: Bool = false,
                      expectedPosition: Int? = nil) -> BlobStoreError {
        let code = response.errorCode
        switch (response.status, code) {
        case (404, _):
            return .notFound(name: name)
        case (409, "BlobAlreadyExists"), (409, "ContainerAlreadyExists"):
            return .alreadyExists(name: name)
        case (412, "AppendPositionConditionNotMet"):
            return .appendPositionMismatch(name: name, expected: expectedPosition ?? -1, actualLength: nil)
        case (412, _) where createOnly:
            return .alreadyExists(name: name)
        case (412, "ConditionNotMet"), (412, "MaxBlobSizeConditionNotMet"), (304, _):
            return .conditionNotMet(name: name)
        case (409, "BlobIsSealed"):
            return .sealed(name: name)
        case (409, "InvalidBlobType"):
            return .wrongBlobType(name: name)
        case (416, _), (_, "InvalidRange"):
            return .invalidRange(name: name, size: totalSize(fromContentRange: response.header("content-range")) ?? 0)
        case (401, _), (403, _):
            return .permissionDenied(name: name, code: code, message: response.errorMessage + " " + advice(for: code))
        default:
            return .unavailable(name: name, message: "HTTP \(response.status) \(code): \(response.errorMessage)")
        }
    }

    /// What to do about an authentication or authorization failure.
    static func advice(for code: String) -> String {
        switch code {
        case "AuthenticationFailed":
            return "(check the account key or SAS in MEMORY_STORAGE, that the SAS has not expired, and the host clock)"
        case "AuthorizationPermissionMismatch":
            return "(grant the identity the 'Storage Blob Data Contributor' role on the account or container, or "
                + "use a SAS with permissions racwdl)"
        case "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch":
            return "(the SAS must allow the blob service (ss=b) and container and object resources (srt=co))"
        case "AuthorizationProtocolMismatch":
            return "(the SAS allows HTTPS only; use an https endpoint)"
        case "NoAuthenticationInformation", "InvalidAuthenticationInfo":
            return "(no usable credentials were sent; check MEMORY_STORAGE and the managed identity)"
        default:
            return "(check the credentials and their permissions in MEMORY_STORAGE)"
        }
    }

    /// `bytes 0-9/10` or `bytes */10` → 10.
    static func totalSize(fromContentRange value: String?) -> Int? {
        guard let value, let slash = value.lastIndex(of: "/") else { return nil }
        return Int(value[value.index(after: slash)...].trimmingCharacters(in: .whitespaces))
    }
}
