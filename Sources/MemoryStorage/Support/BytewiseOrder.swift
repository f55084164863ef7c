import Foundation

/// Strings in the order of their UTF-8 bytes, as `memcmp` orders them (a proper prefix first): the order Azure
/// lists blob names in, and the order the snapshot keeps BM25 terms and metadata keys in. `String`'s own `<`
/// differs outside ASCII (it compares normalised Unicode scalars); `utf8.lexicographicallyPrecedes` gives this
/// order but a byte at a time, which measured as a hot spot in listings and index builds.
public enum BytewiseOrder {
    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    public static func compare(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let common = min(pa.count, pb.count)
                if common > 0 {
                    let order = memcmp(pa.baseAddress!, pb.baseAddress!, common)
                    if order != 0 { return Int(order) }
                }
                return pa.count - pb.count
            }
        }
    }

    /// Whether `a` sorts before `b`.
    public static func precedes(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }
}
