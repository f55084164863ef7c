import Foundation

/// The calendar periods a query names — a month ("in May", "May 2023") or a year ("in 2022") — matched
/// against a memory's event time (`created_at`, which an add's `timestamp` backdates), in UTC.
///
/// Month names count only when capitalised (so the verb "may" or "march" is not a month); a month without a
/// year matches that month of any year.
struct QueryTimeReference: Sendable, Equatable {
    /// (year, month 1–12) pairs named together.
    var yearMonths: Set<Int> = []
    /// Months named without a year.
    var months: Set<Int> = []
    /// Years named on their own.
    var years: Set<Int> = []

    var isEmpty: Bool { yearMonths.isEmpty && months.isEmpty && years.isEmpty }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                             "October", "November", "December"]

    /// The periods in `text`; empty when it names none.
    init(_ text: String) {
        let words = text.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        var i = 0
        while i < words.count {
            if let month = Self.monthNames.firstIndex(of: words[i]).map({ $0 + 1 }) {
                if i + 1 < words.count, let year = Self.year(words[i + 1]) {
                    yearMonths.insert(year * 100 + month)
                    i += 2
                    continue
                }
                months.insert(month)
            } else if let year = Self.year(words[i]) {
                years.insert(year)
            }
            i += 1
        }
    }

    private static func year(_ word: String) -> Int? {
        guard word.count == 4, let value = Int(word), (1900...2099).contains(value) else { return nil }
        return value
    }

    /// True when the instant `seconds` (Unix time) falls in one of the named periods.
    func matches(unixSeconds seconds: Double) -> Bool {
        guard seconds.isFinite else { return false }
        let (year, month) = Self.civilYearMonth(days: Int((seconds / 86_400).rounded(.down)))
        return yearMonths.contains(year * 100 + month) || months.contains(month) || years.contains(year)
    }

    /// Year and month (1–12) of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's
    /// civil-from-days).
    static func civilYearMonth(days: Int) -> (year: Int, month: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month)
    }
}
