import Foundation

/// Reads SNOMED-CT RF2 snapshot files into a `LexiconBuilder`.
///
/// Needs `sct2_Concept_*` and `sct2_Description_*` files (searched recursively);
/// uses `der2_cRefset_Language*` files, when present, to find preferred terms.
/// Only active concepts and active descriptions are kept. Without a language
/// reference set, the fully specified name minus its semantic tag is the preferred term.
public enum RF2Import {
    static let fsnType = "900000000000003001"
    static let preferredAcceptability = "900000000000548007"
    static let conceptHeader = ["id", "effectiveTime", "active", "moduleId", "definitionStatusId"]
    static let descriptionHeader = ["id", "effectiveTime", "active", "moduleId", "conceptId", "languageCode", "typeId", "term", "caseSignificanceId"]
    static let languageHeader = ["id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "acceptabilityId"]

    /// Semantic tags of the hierarchies that hold drugs, substances and proteins (Spanish and English editions).
    public static let defaultSemanticTags: Set<String> = [
        "sustancia", "substance", "producto", "product", "medicamento", "fármaco de uso clínico",
        "medicinal product", "medicinal product form", "clinical drug", "real clinical drug",
    ]

    /// What an import read.
    public struct Summary: Sendable, Hashable {
        /// Active concepts kept (after the semantic-tag filter).
        public var concepts = 0
        /// Active descriptions added.
        public var descriptions = 0
        /// Concepts with a preferred term.
        public var preferredTerms = 0
        /// Files read.
        public var files: [String] = []
    }

    /// The semantic tag of a fully specified name: the text in its last parentheses.
    public static func semanticTag(of fsn: String) -> String? {
        guard fsn.hasSuffix(")"), let open = fsn.lastIndex(of: "(") else { return nil }
        return String(fsn[fsn.index(after: open)..<fsn.index(before: fsn.endIndex)])
    }

    static func stripTag(_ fsn: String) -> String {
        guard semanticTag(of: fsn) != nil, let open = fsn.lastIndex(of: "(") else { return fsn }
        return fsn[..<open].trimmingCharacters(in: .whitespaces)
    }

    static func files(in directory: URL, prefix: String) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        var out: [URL] = []
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(prefix) && url.pathExtension == "txt" {
            out.append(url)
        }
        return out.sorted { $0.path < $1.path }
    }

    /// Rows of a tab-separated RF2 file after checking its header.
    static func rows(_ url: URL, header: [String]) throws(LexiconError) -> [[Substring]] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .io(path: url.path, reason: "cannot read RF2 file: \(error.localizedDescription)")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard !lines.isEmpty else { throw .invalidInput(path: url.path, line: 1, reason: "empty RF2 file (a header line is expected)") }
        let first = lines.removeFirst().split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard first == header else {
            throw .invalidInput(path: url.path, line: 1, reason: "RF2 header is \(first.joined(separator: ",")), expected \(header.joined(separator: ","))")
        }
        var out: [[Substring]] = []
        out.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw .invalidInput(path: url.path, line: i + 2, reason: "\(fields.count) columns, expected \(header.count)")
            }
            out.append(fields)
        }
        return out
    }

    /// Keeps the latest row per id (a snapshot has one; a full release several).
    static func latest(_ rows: [[Substring]]) -> [Substring: [Substring]] {
        var out: [Substring: [Substring]] = [:]
        for row in rows {
            if let existing = out[row[0]], existing[1] >= row[1] { continue }
            out[row[0]] = row
        }
        return out
    }

    /// Imports the release in `directory`.
    /// - Parameters:
    ///   - languages: description language codes to keep (nil: all).
    ///   - semanticTags: hierarchies to keep, by FSN semantic tag (nil: all).
    @discardableResult
    public static func load(
        directory: URL, languages: Set<String>? = nil, semanticTags: Set<String>? = defaultSemanticTags,
        into builder: inout LexiconBuilder
    ) throws(LexiconError) -> Summary {
        var summary = Summary()
        let conceptFiles = files(in: directory, prefix: "sct2_Concept_")
        let descriptionFiles = files(in: directory, prefix: "sct2_Description_")
        guard !conceptFiles.isEmpty else { throw .missingFile(directory: directory.path, pattern: "sct2_Concept_*.txt") }
        guard !descriptionFiles.isEmpty else { throw .missingFile(directory: directory.path, pattern: "sct2_Description_*.txt") }
        var active = Set<Substring>()
        for url in conceptFiles {
            summary.files.append(url.lastPathComponent)
            for (id, row) in latest(try rows(url, header: conceptHeader)) where row[2] == "1" { active.insert(id) }
        }
        var descriptions: [Substring: [Substring]] = [:]
        for url in descriptionFiles {
            summary.files.append(url.lastPathComponent)
            for (id, row) in latest(try rows(url, header: descriptionHeader)) where row[2] == "1" && active.contains(row[4]) {
                if let languages, !languages.contains(String(row[5])) { continue }
                descriptions[id] = row
            }
        }
        var preferredIds = Set<Substring>()
        for url in files(in: directory, prefix: "der2_cRefset_Language") {
            summary.files.append(url.lastPathComponent)
            for (_, row) in latest(try rows(url, header: languageHeader)) where row[2] == "1" && row[6][...] == preferredAcceptability[...] {
                preferredIds.insert(row[5])
            }
        }
        // Semantic tag per concept from its FSN.
        var tags: [Substring: String] = [:]
        for row in descriptions.values where row[6][...] == fsnType[...] {
            if let tag = semanticTag(of: String(row[7])) { tags[row[4]] = tag }
        }
        var kept = Set<Substring>()
        var preferred: [Substring: String] = [:]
        var fsnTerms: [Substring: String] = [:]
        for row in descriptions.values.sorted(by: { $0[0] < $1[0] }) {
            let concept = row[4]
            if let semanticTags {
                guard let tag = tags[concept], semanticTags.contains(tag) else { continue }
            }
            kept.insert(concept)
            let isFSN = row[6][...] == fsnType[...]
            let term = isFSN ? stripTag(String(row[7])) : String(row[7])
            let isPreferred = !isFSN && preferredIds.contains(row[0])
            if isPreferred { preferred[concept] = term }
            if isFSN { fsnTerms[concept] = term }
            builder.addDescription(term: term, code: String(concept), preferred: false)
            summary.descriptions += 1
        }
        for concept in kept.sorted() {
            if let term = preferred[concept] ?? fsnTerms[concept] {
                builder.addDescription(term: term, code: String(concept), preferred: true)
                summary.preferredTerms += 1
            }
        }
        summary.concepts = kept.count
        builder.sourceNotes.append(
            "SNOMED-CT RF2 \(directory.lastPathComponent): \(summary.concepts) active concepts, \(summary.descriptions) active descriptions")
        return summary
    }
}
