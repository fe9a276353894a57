import Foundation

/// `medtag-report.json`, published with every input's results.
///
/// It holds no times or host names, so processing the same input again gives the same bytes.
public struct InputReport: Codable, Sendable, Equatable {
    /// One annotated document.
    public struct DocumentSummary: Codable, Sendable, Equatable {
        /// Path of the document inside the input (the file name for a plain input).
        public var path: String
        /// Length of the text in Unicode code points.
        public var characters: Int
        public var sentences: Int
        public var tokens: Int
        public var entities: Int
        /// Present when the document yielded no entity: why.
        public var note: String?
        /// The language it was annotated as (`es`, `en`).
        public var language: String?
        /// How the language was chosen: `configuration`, `folder` (inbox/es/, inbox/en/) or `detected`.
        public var languageSource: String?
        /// The model that tagged it.
        public var model: String?
        /// What the reader should know about the results: no lexicon for the language (entities have
        /// no code), or an identified language with no model installed.
        public var notes: [String]?
    }

    /// An archive member that was not annotated, and why.
    public struct Refusal: Codable, Sendable, Equatable {
        /// The member name as stored in the archive.
        public var path: String
        public var reason: String
    }

    /// Member counts, for archives.
    public struct Members: Codable, Sendable, Equatable {
        /// Members seen (folders not counted).
        public var read = 0
        public var annotated = 0
        public var refused = 0
    }

    /// The input, relative to the inbox.
    public var input: String
    /// The medtag version that wrote the results.
    public var medtag: String
    /// The formats written for each document.
    public var formats: [String]
    /// Present for archives.
    public var members: Members?
    public var documents: [DocumentSummary] = []
    public var refused: [Refusal] = []

    /// The report's name inside each result folder.
    public static let fileName = "medtag-report.json"

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return Array(data) + [0x0A]
    }
}

/// `<name>.error.json`, next to an input in `failed/`.
public struct ErrorReport: Codable, Sendable {
    /// The input, relative to the inbox.
    public var input: String
    /// What went wrong, naming the file.
    public var reason: String
    /// Where: read, decode, archive, annotate, render, publish.
    public var stage: String
    /// When, ISO 8601 in UTC.
    public var time: String
    /// The medtag version.
    public var medtag: String
    /// The daemon (or ingest run) that processed it.
    public var instance: String

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return Array(data) + [0x0A]
    }
}

/// One line of the daily JSON-lines log in `outbox/logs/`: what happened to one input.
public struct RunRecord: Codable, Sendable {
    /// When the input finished, ISO 8601 in UTC.
    public var time: String
    /// The daemon (or ingest run) that processed it.
    public var instance: String
    /// The input, relative to the inbox.
    public var input: String
    /// The input's size on disk.
    public var bytes: Int
    public var documents: Int
    public var tokens: Int
    public var entities: Int
    public var refused: Int
    /// The language the documents were annotated as (several, comma-separated, for an archive of mixed languages).
    public var language: String?
    /// The model that tagged them (likewise).
    public var model: String?
    /// Milliseconds per stage: read, decode, annotate, write, publish, total.
    public var ms: [String: Double]
    /// `done`, `failed` or `retry`.
    public var outcome: String
    public var stage: String?
    public var error: String?

    /// Distinct values in first-seen order, comma-separated; nil when there are none.
    static func joined(_ values: [String]) -> String? {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? nil : seen.joined(separator: ",")
    }
}

enum Timestamp {
    /// ISO 8601 in UTC with milliseconds.
    static func iso8601(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// `YYYY-MM-DD` in UTC, the daily log's name.
    static func day(_ date: Date = Date()) -> String {
        String(iso8601(date).prefix(10))
    }
}
