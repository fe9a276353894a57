import Foundation

/// Short forms expanded before lookup: abbreviations and acronyms (`AAS` → ácido
/// acetilsalicílico), brand names (`Durogesic` → fentanilo) and abbreviated words
/// inside longer mentions (`ac.` → ácido | anticuerpos).
///
/// File format: UTF-8 text, `#` starts a comment line, each other line is
/// `SHORT<TAB>EXPANSION[|EXPANSION…]<TAB>KIND[<TAB>note]` where KIND is
/// `abbreviation` (whole mention), `brand` (whole mention) or `word` (one word
/// of a mention). Short forms match after `TermKey` folding, so case and accents
/// do not matter.
public struct AbbreviationTable: Sendable {
    /// How an entry is used.
    public enum Kind: String, Sendable {
        /// The whole mention is the short form.
        case abbreviation
        /// The whole mention is a brand name of the expansion (an active substance).
        case brand
        /// A single word inside a mention.
        case word
    }
    /// One short form with its expansions.
    public struct Entry: Sendable, Hashable {
        /// The short form as written in the table.
        public var short: String
        /// The expansions, in order of preference.
        public var expansions: [String]
        /// How the entry is used.
        public var kind: Kind
    }
    private var whole: [String: Entry] = [:]
    private var words: [String: [String]] = [:]

    /// An empty table.
    public init() {}

    /// Parses the table text; `path` is used in error messages.
    public init(text: String, path: String) throws(LexiconError) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else {
                throw .invalidInput(path: path, line: lineNumber, reason: "expected SHORT<TAB>EXPANSION<TAB>KIND, got \(fields.count) field(s)")
            }
            guard let kind = Kind(rawValue: fields[2].trimmingCharacters(in: .whitespaces)) else {
                throw .invalidInput(path: path, line: lineNumber, reason: "unknown kind \"\(fields[2])\" (abbreviation, brand or word)")
            }
            let expansions = fields[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let key = TermKey.key(fields[0])
            guard !key.isEmpty, !expansions.isEmpty else {
                throw .invalidInput(path: path, line: lineNumber, reason: "empty short form or expansion")
            }
            add(Entry(short: fields[0], expansions: expansions, kind: kind), key: key)
        }
    }

    /// Loads a table file.
    public init(contentsOf url: URL) throws(LexiconError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .io(path: url.path, reason: "cannot read abbreviation table: \(error.localizedDescription)")
        }
        try self.init(text: text, path: url.path)
    }

    private mutating func add(_ entry: Entry, key: String) {
        switch entry.kind {
        case .word:
            words[key, default: []].append(contentsOf: entry.expansions)
        case .abbreviation, .brand:
            if var existing = whole[key] {
                existing.expansions.append(contentsOf: entry.expansions)
                whole[key] = existing
            } else {
                whole[key] = entry
            }
        }
    }

    /// Adds an entry programmatically.
    public mutating func add(_ entry: Entry) { add(entry, key: TermKey.key(entry.short)) }

    /// Number of whole-mention and word entries.
    public var count: Int { whole.count + words.count }

    /// The whole-mention entry for `text`, if any.
    public func entry(for text: String) -> Entry? { whole[TermKey.key(text)] }

    /// Variants of `text` with abbreviated words expanded (at most `limit`, the original excluded).
    public func wordVariants(of text: String, limit: Int = 8) -> [String] {
        let folded = TermKey.words(text)
        guard folded.count > 1, folded.contains(where: { words[$0] != nil }) else { return [] }
        var variants: [[String]] = [[]]
        for word in folded {
            let options = [word] + (words[word] ?? [])
            variants = variants.flatMap { prefix in options.map { prefix + [$0] } }
            if variants.count > limit * 4 { variants = Array(variants.prefix(limit * 4)) }
        }
        return variants.map { $0.joined(separator: " ") }.filter { TermKey.key($0) != folded.joined() }.prefix(limit).map { $0 }
    }
}
