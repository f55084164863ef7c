import Foundation

/// A storage setting (`MEMORY_STORAGE`) that cannot be used, found at startup before any request is made.
///
/// Messages name the problem and the fix, never a secret (keys and SAS signatures are not repeated).
public enum AzureSettingsError: Error, Sendable, Equatable {
    /// The setting is empty.
    case emptySetting
    /// A connection string that does not parse; `reason` says which part is wrong.
    case malformedConnectionString(reason: String)
    /// `AccountKey` is not Base64.
    case invalidAccountKey(account: String)
    /// An account URL that is not an absolute `http(s)://host[/account]` URL.
    case invalidAccountURL(reason: String)
    /// Managed identity (an account URL without SAS) was asked for over plain HTTP.
    case bearerRequiresHTTPS(url: String)
    /// Managed identity was asked for but `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` are not set.
    case managedIdentityUnavailable(reason: String)
    /// The container name breaks Azure's rules (3-63 of `[a-z0-9-]`, starting with a letter or digit, no `--`).
    case invalidContainerName(String)
    /// A timeout or deadline setting that is not a positive number of seconds.
    case invalidDuration(setting: String, value: String)
}

extension AzureSettingsError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptySetting:
            return "storage setting is empty: set MEMORY_STORAGE to an Azure Storage connection string or to "
                + "https://<account>.blob.core.windows.net (managed identity) or that URL with ?<SAS>"
        case .malformedConnectionString(let reason):
            return "malformed storage connection string: \(reason). Expected "
                + "'DefaultEndpointsProtocol=https;AccountName=<name>;AccountKey=<key>;EndpointSuffix=core.windows.net', "
                + "'BlobEndpoint=https://<name>.blob.core.windows.net/;SharedAccessSignature=<sas>' or "
                + "'UseDevelopmentStorage=true'"
        case .invalidAccountKey(let account):
            return "the AccountKey for storage account '\(account)' is not valid Base64: copy the key again from "
                + "the portal (Storage account → Access keys)"
        case .invalidAccountURL(let reason):
            return "invalid storage account URL: \(reason). Expected https://<account>.blob.core.windows.net "
                + "(managed identity) or https://<account>.blob.core.windows.net?<SAS>"
        case .bearerRequiresHTTPS(let url):
            return "managed identity tokens are only sent over HTTPS, but the storage URL is '\(url)': use an "
                + "https:// URL, or a connection string with AccountKey or SharedAccessSignature for a local emulator"
        case .managedIdentityUnavailable(let reason):
            return "managed identity is not available: \(reason). Enable a managed identity on the function app "
                + "(it sets IDENTITY_ENDPOINT and IDENTITY_HEADER), or give a connection string or a SAS URL"
        case .invalidContainerName(let name):
            return "invalid container name '\(name)': use 3-63 characters of lowercase letters, digits and "
                + "single hyphens, starting with a letter or digit (set MEMORY_CONTAINER)"
        case .invalidDuration(let setting, let value):
            return "\(setting) is '\(value)': give a positive number of seconds (at most 86400), or leave it unset "
                + "for the default"
        }
    }
}
