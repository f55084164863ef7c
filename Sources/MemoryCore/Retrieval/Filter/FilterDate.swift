import Foundation
import JSONModel
import MemoryStorage

/// A filter's date operand, as the half-open interval of instants it names at its own precision:
/// `2026-11-20` is that whole UTC day, `2026-11-20T10:30:00Z` that second, `…:00.250Z` that millisecond,
/// an integer Unix epoch that second, a fractional epoch that exact instant.
struct FilterDateInterval: Sendable, Hashable {
    /// First instant inside, seconds since 1970.
    var lower: Double
    /// First instant after, seconds since 1970 (`> lower`).
    var upper: Double

    /// Parses a JSON date operand; `nil` when it is neither an ISO-8601 date / date-time nor a number.
    static func parse(_ value: JSONValue) -> FilterDateInterval? {
        switch value {
        case .number(let d):
            guard d.isFinite else { return nil }
            return d.rounded() == d ? .init(lower: d, upper: d + 1) : .init(lower: d, upper: d.nextUp)
        case .string(let s):
            return parse(string: s)
        default:
            return nil
        }
    }

    static func parse(string raw: String) -> FilterDateInterval? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if let day = ISODateParsing.day(s) { return .init(lower: day, upper: day + 86_400) }
        if let (instant, fractional) = ISODateParsing.dateTime(s) {
            return fractional ? .init(lower: instant, upper: instant + 0.001) : .init(lower: instant, upper: instant + 1)
        }
        return nil
    }
}

/// ISO-8601 parsing without locale surprises: `YYYY-MM-DD`, and date-times `YYYY-MM-DDTHH:MM[:SS[.fff…]]`
/// with `Z`, `±HH:MM`, `±HHMM` or no zone (read as UTC); a space may replace the `T`.
enum ISODateParsing {
    /// Midnight UTC of a `YYYY-MM-DD` day, seconds since 1970.
    static func day(_ s: String) -> Double? {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              let y = number(u, 0, 4), let m = number(u, 5, 2), let d = number(u, 8, 2),
              valid(y, m, d) else { return nil }
        return Double(daysFromCivil(y, m, d)) * 86_400
    }

    /// The instant of a date-time and whether it carried fractional seconds.
    static func dateTime(_ s: String) -> (Double, Bool)? {
        let u = Array(s.utf8)
        guard u.count >= 16, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == UInt8(ascii: " "),
              u[13] == UInt8(ascii: ":"),
              let y = number(u, 0, 4), let mo = number(u, 5, 2), let d = number(u, 8, 2), valid(y, mo, d),
              let h = number(u, 11, 2), let mi = number(u, 14, 2), h < 24, mi < 60 else { return nil }
        var i = 16
        var seconds = 0.0
        var fractional = false
        if i < u.count, u[i] == UInt8(ascii: ":") {
            guard let sec = number(u, i + 1, 2), sec <= 60 else { return nil }
            seconds = Double(sec)
            i += 3
            if i < u.count, u[i] == UInt8(ascii: ".") || u[i] == UInt8(ascii: ",") {
                i += 1
                var scale = 0.1
                let start = i
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    seconds += Double(u[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
                fractional = true
            }
        }
        var offset = 0
        if i < u.count {
            let c = u[i]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                i += 1
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                guard let oh = number(u, i + 1, 2) else { return nil }
                var j = i + 3
                var om = 0
                if j < u.count, u[j] == UInt8(ascii: ":") { j += 1 }
                if j < u.count {
                    guard let m = number(u, j, 2) else { return nil }
                    om = m
                    j += 2
                }
                guard oh < 24, om < 60 else { return nil }
                offset = (oh * 60 + om) * 60 * (c == UInt8(ascii: "-") ? -1 : 1)
                i = j
            } else {
                return nil
            }
        }
        guard i == u.count else { return nil }
        let base = Double(daysFromCivil(y, mo, d)) * 86_400 + Double(h * 3600 + mi * 60)
        return (base + seconds - Double(offset), fractional)
    }

    private static func number(_ u: [UInt8], _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= u.count else { return nil }
        var n = 0
        for k in at..<(at + count) {
            let c = u[k]
            guard c >= 48, c <= 57 else { return nil }
            n = n * 10 + Int(c - 48)
        }
        return n
    }

    private static func valid(_ y: Int, _ m: Int, _ d: Int) -> Bool {
        guard m >= 1, m <= 12, d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= lengths[m - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
