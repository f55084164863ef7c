import Foundation

/// The LoCoMo conversations `memory-bench quality` replays (`../shared/data/locomo-dev.json`; shape and
/// protocol in that folder's README): every turn becomes one memory, every question of categories 1–4 with
/// `D<n>:<m>` evidence becomes one search. The data stays outside the repository (CC BY-NC 4.0).
struct QualityDataset {
    /// One turn of a conversation, as the memory the protocol adds.
    struct Turn {
        let diaId: String
        let session: Int
        /// `"{speaker}: {text}"`, plus `" [shares a photo of {caption}]"` when the turn has a caption.
        let text: String
        /// The session's date-time (Unix seconds), sent as the add's `timestamp`.
        let timestamp: Double
    }

    struct Question {
        let text: String
        let category: Int
        /// The distinct `D<n>:<m>` ids of the evidence turns.
        let evidence: Set<String>
    }

    struct Conversation {
        let sampleId: String
        /// In conversation order (sessions ascending, turns as listed).
        let turns: [Turn]
        let questions: [Question]
    }

    /// The official LoCoMo category labels of the categories the protocol scores (5, adversarial, is skipped).
    static let categoryNames = [1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"]

    let conversations: [Conversation]

    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        guard let samples = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw QualityDataError("\(url.path): expected a JSON list of samples")
        }
        conversations = try samples.map(Self.conversation)
    }

    private static func conversation(_ sample: [String: Any]) throws -> Conversation {
        guard let sampleId = sample["sample_id"] as? String,
              let conversation = sample["conversation"] as? [String: Any],
              let qa = sample["qa"] as? [[String: Any]] else {
            throw QualityDataError("a sample lacks sample_id, conversation or qa")
        }
        let sessions = conversation.keys.compactMap { key -> Int? in
            guard key.hasPrefix("session_"), !key.hasSuffix("_date_time") else { return nil }
            return Int(key.dropFirst("session_".count))
        }.sorted()
        var turns: [Turn] = []
        for session in sessions {
            guard let when = conversation["session_\(session)_date_time"] as? String,
                  let timestamp = sessionTime(when) else {
                throw QualityDataError("\(sampleId) session \(session): no date-time we can read")
            }
            for turn in conversation["session_\(session)"] as? [[String: Any]] ?? [] {
                guard let speaker = turn["speaker"] as? String, let diaId = turn["dia_id"] as? String,
                      let text = turn["text"] as? String else { continue }
                var memory = "\(speaker): \(text)"
                if let caption = turn["blip_caption"] as? String { memory += " [shares a photo of \(caption)]" }
                turns.append(Turn(diaId: diaId, session: session, text: memory, timestamp: timestamp))
            }
        }
        let questions = qa.compactMap { q -> Question? in
            guard let text = q["question"] as? String, let category = q["category"] as? Int,
                  categoryNames[category] != nil else { return nil }
            let evidence = Set((q["evidence"] as? [String] ?? []).flatMap(evidenceIds))
            return evidence.isEmpty ? nil : Question(text: text, category: category, evidence: evidence)
        }
        return Conversation(sampleId: sampleId, turns: turns, questions: questions)
    }

    /// The `D<n>:<m>` ids inside one evidence entry (a few entries hold two, `"D8:6; D9:17"`; malformed ones
    /// such as `"D"` hold none).
    static func evidenceIds(_ entry: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "D[0-9]+:[0-9]+")
        return regex.matches(in: entry, range: NSRange(entry.startIndex..., in: entry)).compactMap {
            Range($0.range, in: entry).map { String(entry[$0]) }
        }
    }

    /// `"1:56 pm on 8 May, 2023"` as Unix seconds (read as UTC).
    static func sessionTime(_ text: String) -> Double? {
        let parts = text.lowercased().replacingOccurrences(of: ",", with: "").split(separator: " ")
        guard parts.count == 6, parts[2] == "on" else { return nil }
        let clock = parts[0].split(separator: ":")
        guard clock.count == 2, var hour = Int(clock[0]), let minute = Int(clock[1]),
              let day = Int(parts[3]), let year = Int(parts[5]) else { return nil }
        let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                      "october", "november", "december"]
        guard let month = months.firstIndex(of: String(parts[4])) else { return nil }
        if hour == 12 { hour = 0 }
        if parts[1] == "pm" { hour += 12 } else if parts[1] != "am" { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month + 1, day: day, hour: hour, minute: minute)
        return calendar.date(from: components)?.timeIntervalSince1970
    }
}

struct QualityDataError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
