import Foundation

/// Where a storage account's Blob service is and how to authenticate to it, parsed from one setting string.
///
/// The setting is either an Azure Storage connection string (`AccountKey` → SharedKey, `SharedAccessSignature`
/// → SAS, `UseDevelopmentStorage=true` → Azurite's well-known account) or an account URL
/// (`https://account.blob.core.windows.net`, with `?<SAS>` for SAS, without it for managed identity).
public struct AzureStorageSettings: Sendable, Equatable {
    /// How requests are authorized.
    public enum Credential: Sendable, Equatable {
        /// SharedKey signing with the account key (Base64, as in the connection string).
        case sharedKey(accountKey: String)
        /// A SAS token appended to every request's query (without a leading `?`).
        case sharedAccessSignature(String)
        /// Bearer tokens from the platform's managed identity endpoint (HTTPS only).
        case managedIdentity
    }

    /// The Blob service base URL, without a trailing slash. Path-style URLs include the account
    /// (`http://127.0.0.1:10000/devstoreaccount1`).
    public var blobEndpoint: URL
    /// The storage account name.
    public var accountName: String
    public var credential: Credential

    /// Azurite's well-known development account and key (public, documented by Microsoft).
    public static let developmentAccountName = "devstoreaccount1"
    public static let developmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    public init(blobEndpoint: URL, accountName: String, credential: Credential) {
        self.blobEndpoint = blobEndpoint
        self.accountName = accountName
        self.credential = credential
    }

    /// Whether a `MEMORY_STORAGE` value means Azure (a connection string or an `http(s)://` account URL) rather
    /// than a folder path. Decides by shape only; ``parse(_:)`` then says what is wrong with a malformed one.
    public static func isAzureSetting(_ setting: String) -> Bool {
        let lower = setting.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") { return true }
        let keys = ["usedevelopmentstorage=", "defaultendpointsprotocol=", "accountname=", "accountkey=",
                    "blobendpoint=", "sharedaccesssignature=", "endpointsuffix="]
        return keys.contains { lower.hasPrefix($0) || lower.contains(";" + $0) }
    }

    /// Parses a connection string or an account URL.
    /// - Throws: ``AzureSettingsError`` naming what is wrong.
    public static func parse(_ setting: String) throws -> AzureStorageSettings {
        let trimmed = setting.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw AzureSettingsError.emptySetting }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") {
            return try parseAccountURL(trimmed)
        }
        return try parseConnectionString(trimmed)
    }

    /// Parses `Key=Value;...` as Azure's SDKs do: trailing `;` trimmed, split on `;`, each part split at its
    /// first `=` (keys end in `=` padding), key names case-insensitive.
    public static func parseConnectionString(_ text: String) throws -> AzureStorageSettings {
        var body = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        while body.hasSuffix(";") { body = body.dropLast() }
        var values: [String: String] = [:]
        for (index, part) in body.split(separator: ";", omittingEmptySubsequences: false).enumerated() {
            let part = part.trimmingCharacters(in: .whitespaces)
            guard let eq = part.firstIndex(of: "=") else {
                throw AzureSettingsError.malformedConnectionString(
                    reason: part.isEmpty ? "part \(index + 1) is empty (two ';' in a row)"
                        : "part \(index + 1) ('\(part.prefix(24))') has no '=': parts must be Key=Value")
            }
            let key = part[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = String(part[part.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw AzureSettingsError.malformedConnectionString(reason: "part \(index + 1) has an empty key")
            }
            guard values[key] == nil else {
                throw AzureSettingsError.malformedConnectionString(reason: "'\(key)' appears twice")
            }
            values[key] = value
        }
        if let dev = values["usedevelopmentstorage"] {
            guard dev.lowercased() == "true" else {
                throw AzureSettingsError.malformedConnectionString(
                    reason: "UseDevelopmentStorage must be 'true' (got '\(dev)')")
            }
            return developmentStorage
        }
        let accountKey = values["accountkey"].flatMap { $0.isEmpty ? nil : $0 }
        var sas = values["sharedaccesssignature"].flatMap { $0.isEmpty ? nil : $0 }
        if let s = sas, s.hasPrefix("?") { sas = String(s.dropFirst()) }
        let protocolName = (values["defaultendpointsprotocol"] ?? "https").lowercased()
        guard protocolName == "https" || protocolName == "http" else {
            throw AzureSettingsError.malformedConnectionString(
                reason: "DefaultEndpointsProtocol must be https or http (got '\(protocolName)')")
        }
        let endpoint: URL
        if let blobEndpoint = values["blobendpoint"], !blobEndpoint.isEmpty {
            endpoint = try validatedEndpoint(blobEndpoint, what: "BlobEndpoint")
        } else if let account = values["accountname"], !account.isEmpty {
            let suffix = values["endpointsuffix"].flatMap { $0.isEmpty ? nil : $0 } ?? "core.windows.net"
            endpoint = try validatedEndpoint("\(protocolName)://\(account).blob.\(suffix)", what: "AccountName/EndpointSuffix")
        } else {
            throw AzureSettingsError.malformedConnectionString(reason: "it names no account: give AccountName or BlobEndpoint")
        }
        let accountName: String
        if let name = values["accountname"], !name.isEmpty {
            accountName = name
        } else {
            accountName = accountNameFromEndpoint(endpoint)
        }
        guard !accountName.isEmpty else {
            throw AzureSettingsError.malformedConnectionString(
                reason: "cannot tell the account name from BlobEndpoint '\(endpoint.absoluteString)': add AccountName")
        }
        if let key = accountKey {
            _ = try SharedKeySigner(accountName: accountName, base64Key: key)
            return AzureStorageSettings(blobEndpoint: endpoint, accountName: accountName,
                                        credential: .sharedKey(accountKey: key))
        }
        if let sas {
            try validateSAS(sas, reason: { AzureSettingsError.malformedConnectionString(reason: $0) })
            return AzureStorageSettings(blobEndpoint: endpoint, accountName: accountName,
                                        credential: .sharedAccessSignature(sas))
        }
        throw AzureSettingsError.malformedConnectionString(
            reason: "it has neither AccountKey nor SharedAccessSignature (for managed identity set the account "
                + "URL https://<account>.blob.core.windows.net instead)")
    }

    /// `https://account.blob.core.windows.net[/][?sas]`: SAS when a query is present, managed identity otherwise.
    public static func parseAccountURL(_ text: String) throws -> AzureStorageSettings {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty else {
            throw AzureSettingsError.invalidAccountURL(reason: "'\(text.prefix(80))' is not an absolute URL")
        }
        var base = components
        base.query = nil
        base.fragment = nil
        let endpoint = try validatedEndpoint(base.string ?? "", what: "the account URL")
        let accountName = accountNameFromEndpoint(endpoint)
        guard !accountName.isEmpty else {
            throw AzureSettingsError.invalidAccountURL(reason: "cannot tell the account name from '\(endpoint.absoluteString)'")
        }
        if let query = components.percentEncodedQuery, !query.isEmpty {
            try validateSAS(query, reason: { AzureSettingsError.invalidAccountURL(reason: $0) })
            return AzureStorageSettings(blobEndpoint: endpoint, accountName: accountName,
                                        credential: .sharedAccessSignature(query))
        }
        guard scheme == "https" else { throw AzureSettingsError.bearerRequiresHTTPS(url: endpoint.absoluteString) }
        return AzureStorageSettings(blobEndpoint: endpoint, accountName: accountName, credential: .managedIdentity)
    }

    /// `UseDevelopmentStorage=true`: Azurite on loopback with its well-known account, path-style.
    public static var developmentStorage: AzureStorageSettings {
        AzureStorageSettings(
            blobEndpoint: URL(string: "http://127.0.0.1:10000/devstoreaccount1")!,  // constant, always valid
            accountName: developmentAccountName,
            credential: .sharedKey(accountKey: developmentAccountKey))
    }

    /// Whether the endpoint uses path-style addressing (loopback, IP or localhost hosts: the account is the first
    /// path segment) rather than a virtual host.
    public var isPathStyle: Bool { Self.isPathStyleHost(blobEndpoint.host ?? "") }

    static func isPathStyleHost(_ host: String) -> Bool {
        host == "localhost" || host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
    }

    private static func validatedEndpoint(_ text: String, what: String) throws -> URL {
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty,
              components.query == nil, let url = components.url else {
            throw AzureSettingsError.malformedConnectionString(
                reason: "\(what) '\(text.prefix(80))' is not an absolute http(s) URL without a query")
        }
        return url
    }

    private static func accountNameFromEndpoint(_ url: URL) -> String {
        let host = url.host ?? ""
        if isPathStyleHost(host) {
            return url.pathComponents.first(where: { $0 != "/" }) ?? ""
        }
        return String(host.split(separator: ".").first ?? "")
    }

    private static func validateSAS(_ sas: String, reason: (String) -> AzureSettingsError) throws {
        let names = Set(sas.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" })
        guard names.contains("sig") else {
            throw reason("the SAS token has no 'sig' parameter (copy the whole token, starting at 'sv=')")
        }
    }
}
