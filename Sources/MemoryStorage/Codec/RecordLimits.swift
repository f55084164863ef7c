import JSONModel
/// The limits a record must respect to be read back. One set, used by the API's request checks, the writer
/// (which refuses to append a record the reader would not decode) and the decoders of the log and the snapshot.
///
/// Changing a limit is a format change: a reader must keep accepting everything an earlier writer could write.
public enum RecordLimits {
    /// The deepest nesting a JSON value in a record (a memory's `metadata`) may have, counted as
    /// ``JSONValue/nestingDepth`` counts: a scalar is 1, a container is one more than its deepest element.
    public static let maxJSONNesting = 256
}

extension JSONValue {
    /// How deeply the value nests: 1 for a scalar or an empty container, otherwise one more than the deepest
    /// element. Iterative, so a hostile value cannot exhaust the stack here.
    public var nestingDepth: Int {
        var deepest = 0
        var stack: [(JSONValue, Int)] = [(self, 1)]
        while let (value, depth) = stack.popLast() {
            deepest = max(deepest, depth)
            switch value {
            case .array(let a): for e in a { stack.append((e, depth + 1)) }
            case .object(let o): for e in o.values { stack.append((e, depth + 1)) }
            default: break
            }
        }
        return deepest
    }
}
