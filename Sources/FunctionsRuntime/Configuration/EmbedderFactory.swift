import ModelClients

/// Builds the embedder named by `MEMORY_EMBEDDER`. The single place where embedder names are known: add a
/// `case` here to wire a new provider.
public enum EmbedderFactory {
    /// The names `MEMORY_EMBEDDER` accepts.
    public static let names = ["minilm", "azure-openai", "openai", "hash"]

    /// Used when `MEMORY_EMBEDDER` is unset.
    public static let defaultName = "hash"

    public static func make(name: String, environment: [String: String]) throws(ConfigurationError) -> any Embedder {
        switch name.lowercased() {
        case "hash":
            return HashingEmbedder(dimension: 384)
        case "minilm", "azure-openai", "openai":
            throw ConfigurationError(setting: "MEMORY_EMBEDDER",
                problem: "'\(name)' is not available in this build yet; use 'hash'")
        default:
            throw ConfigurationError(setting: "MEMORY_EMBEDDER",
                problem: "'\(name.prefix(40))' is not one of \(names.joined(separator: ", "))")
        }
    }
}
