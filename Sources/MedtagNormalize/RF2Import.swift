import Foundation

/// Reads SNOMED-CT RF2 release files into a `LexiconBuilder`.
///
/// Needs `sct2_Concept_*` and `sct2_Description_*` files (searched recursively) and uses the
/// `der2_cRefset_Language*` files, when present, to decide which descriptions belong to the
/// language and which one is each concept's preferred term. Only active concepts and active
/// descriptions are kept; a full release (several rows per id) is read as its latest rows.
/// Without a language reference set, the fully specified name minus its semantic tag is the
/// preferred term.
public enum RF2Import {
    static let fsnType = "900000000000003001"
    static let preferredAcceptability = "900000000000548007"
    static let acceptableAcceptability = "900000000000549004"
    /// The US English language reference set of the International edition.
    public static let usEnglishRefset = "900000000000509007"
    /// The GB English language reference set of the International edition.
    public static let gbEnglishRefset = "900000000000508004"
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
        /// Concepts left out because they are inactive.
        public var inactiveConcepts = 0
        /// Language reference sets used, most preferred first.
        public var languageRefsets: [String] = []
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

    /// One row of an RF2 file: its fields and its line number.
    struct Row {
        var fields: [Substring]
        var line: Int
        var effectiveTime: UInt32 { UInt32(fields[1])! }  // checked by `forEachRow`
        var active: Bool { fields[2] == "1" }
    }

    /// Reads a tab-separated RF2 file, checking its header and every row's shape, and hands each
    /// row to `body`. The text stays in memory only while the file is read.
    static func forEachRow(_ url: URL, header: [String], _ body: (Row) throws(LexiconError) -> Void) throws(LexiconError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .io(path: url.path, reason: "cannot read RF2 file as UTF-8 text: \(error.localizedDescription)")
        }
        var number = 0
        var sawHeader = false
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if !sawHeader {
                let names = fields.map { $0.trimmingCharacters(in: .whitespaces) }
                guard names == header else {
                    throw .invalidInput(
                        path: url.path, line: number,
                        reason: "RF2 header is \(names.joined(separator: ",")), expected \(header.joined(separator: ","))")
                }
                sawHeader = true
                continue
            }
            guard fields.count == header.count else {
                throw .invalidInput(path: url.path, line: number, reason: "\(fields.count) columns, expected \(header.count)")
            }
            guard !fields[0].isEmpty else { throw .invalidInput(path: url.path, line: number, reason: "empty id") }
            guard fields[1].utf8.count == 8, UInt32(fields[1]) != nil else {
                throw .invalidInput(path: url.path, line: number, reason: "effectiveTime '\(fields[1])' is not YYYYMMDD")
            }
            guard fields[2] == "0" || fields[2] == "1" else {
                throw .invalidInput(path: url.path, line: number, reason: "active is '\(fields[2])', expected 0 or 1")
            }
            try body(Row(fields: fields, line: number))
        }
        guard sawHeader else { throw .invalidInput(path: url.path, line: 1, reason: "empty RF2 file (a header line is expected)") }
    }

    /// A SNOMED-CT identifier field, or an error naming the file and line.
    static func identifier(_ field: Substring, _ name: String, _ url: URL, _ row: Row) throws(LexiconError) -> UInt64 {
        guard let value = UInt64(field) else {
            throw .invalidInput(path: url.path, line: row.line, reason: "\(name) '\(field)' is not a SNOMED-CT identifier")
        }
        return value
    }

    struct ConceptRecord {
        var time: UInt32
        var active: Bool
    }
    struct DescriptionRecord {
        var time: UInt32
        var active: Bool
        var concept: UInt64
        var language: String
        var isFSN: Bool
        var term: String
    }
    struct MemberRecord {
        var time: UInt32
        var active: Bool
        var refset: UInt64
        var description: UInt64
        var preferred: Bool
    }

    /// The files of one kind to read: the snapshot ones when the folder holds any (a release
    /// package also has full and delta files), else all of them (a full release, read as its
    /// latest rows).
    static func releaseFiles(in directory: URL, prefix: String) -> [URL] {
        let all = files(in: directory, prefix: prefix)
        let snapshot = all.filter { $0.lastPathComponent.contains("Snapshot") }
        return snapshot.isEmpty ? all.filter { !$0.lastPathComponent.contains("Delta") } : snapshot
    }

    /// The order in which language reference sets decide: US English, GB English, then the rest by id.
    static func defaultOrder(_ refsets: some Sequence<UInt64>) -> [UInt64] {
        let rank: [UInt64: Int] = [UInt64(usEnglishRefset)!: 0, UInt64(gbEnglishRefset)!: 1]
        return refsets.sorted { (rank[$0] ?? 2, $0) < (rank[$1] ?? 2, $1) }
    }

    /// Imports the release in `directory`.
    /// - Parameters:
    ///   - languages: description language codes to keep (nil: all).
    ///   - languageRefsets: language reference sets to use, most preferred first (nil: every one
    ///     in the release, US English before GB English). When the release has language reference
    ///     sets, only descriptions that are active members of one of these are kept, and a
    ///     concept's preferred term is the synonym preferred by the first of them that has one.
    ///   - semanticTags: hierarchies to keep, by FSN semantic tag (nil: all).
    @discardableResult
    public static func load(
        directory: URL, languages: Set<String>? = nil, languageRefsets: [String]? = nil,
        semanticTags: Set<String>? = defaultSemanticTags, into builder: inout LexiconBuilder
    ) throws(LexiconError) -> Summary {
        var summary = Summary()
        let conceptFiles = releaseFiles(in: directory, prefix: "sct2_Concept_")
        let descriptionFiles = releaseFiles(in: directory, prefix: "sct2_Description_")
        guard !conceptFiles.isEmpty else { throw .missingFile(directory: directory.path, pattern: "sct2_Concept_*.txt") }
        guard !descriptionFiles.isEmpty else { throw .missingFile(directory: directory.path, pattern: "sct2_Description_*.txt") }
        var requested: [UInt64]?
        if let languageRefsets {
            requested = []
            for refset in languageRefsets {
                guard let id = UInt64(refset) else {
                    throw .invalidRelease(directory: directory.path, reason: "language reference set '\(refset)' is not a SNOMED-CT identifier")
                }
                requested!.append(id)
            }
        }

        // Latest row per id (a snapshot has one; a full release several).
        var concepts: [UInt64: ConceptRecord] = [:]
        for url in conceptFiles {
            summary.files.append(url.lastPathComponent)
            try forEachRow(url, header: conceptHeader) { row throws(LexiconError) in
                let id = try identifier(row.fields[0], "id", url, row)
                if let existing = concepts[id], existing.time >= row.effectiveTime { return }
                concepts[id] = ConceptRecord(time: row.effectiveTime, active: row.active)
            }
        }
        var descriptions: [UInt64: DescriptionRecord] = [:]
        for url in descriptionFiles {
            summary.files.append(url.lastPathComponent)
            try forEachRow(url, header: descriptionHeader) { row throws(LexiconError) in
                let id = try identifier(row.fields[0], "id", url, row)
                let concept = try identifier(row.fields[4], "conceptId", url, row)
                guard !row.fields[7].isEmpty else {
                    throw .invalidInput(path: url.path, line: row.line, reason: "empty term")
                }
                if let existing = descriptions[id], existing.time >= row.effectiveTime { return }
                descriptions[id] = DescriptionRecord(
                    time: row.effectiveTime, active: row.active, concept: concept, language: String(row.fields[5]),
                    isFSN: row.fields[6] == fsnType[...], term: String(row.fields[7]))
            }
        }
        var members: [String: MemberRecord] = [:]
        for url in releaseFiles(in: directory, prefix: "der2_cRefset_Language") {
            summary.files.append(url.lastPathComponent)
            try forEachRow(url, header: languageHeader) { row throws(LexiconError) in
                let refset = try identifier(row.fields[4], "refsetId", url, row)
                let description = try identifier(row.fields[5], "referencedComponentId", url, row)
                let acceptability = row.fields[6]
                guard acceptability == preferredAcceptability[...] || acceptability == acceptableAcceptability[...] else {
                    throw .invalidInput(
                        path: url.path, line: row.line,
                        reason: "acceptabilityId '\(acceptability)' is neither preferred (\(preferredAcceptability)) nor acceptable (\(acceptableAcceptability))")
                }
                let key = String(row.fields[0])
                if let existing = members[key], existing.time >= row.effectiveTime { return }
                members[key] = MemberRecord(
                    time: row.effectiveTime, active: row.active, refset: refset, description: description,
                    preferred: acceptability == preferredAcceptability[...])
            }
        }
        let found = Set(members.values.map(\.refset))
        if let requested {
            for refset in requested where !found.contains(refset) {
                let list = found.isEmpty ? "none" : defaultOrder(found).map(String.init).joined(separator: ", ")
                throw .invalidRelease(
                    directory: directory.path,
                    reason: "no member of language reference set \(refset) in its der2_cRefset_Language* files (found: \(list))")
            }
        }
        let refsets = requested ?? defaultOrder(found)
        summary.languageRefsets = refsets.map(String.init)
        let rank = Dictionary(refsets.enumerated().map { ($0.element, $0.offset) }) { a, _ in a }
        // Per description: the best rank at which it is a member, and at which it is preferred.
        var memberRank: [UInt64: Int] = [:]
        var preferredRank: [UInt64: Int] = [:]
        for member in members.values where member.active {
            guard let r = rank[member.refset] else { continue }
            memberRank[member.description] = min(memberRank[member.description] ?? .max, r)
            if member.preferred { preferredRank[member.description] = min(preferredRank[member.description] ?? .max, r) }
        }
        members = [:]
        let useRefsets = !refsets.isEmpty

        var activeConcepts = Set<UInt64>()
        for (id, concept) in concepts where concept.active { activeConcepts.insert(id) }
        summary.inactiveConcepts = concepts.count - activeConcepts.count
        // Semantic tag per concept, from an active FSN in any language.
        var tags: [UInt64: String] = [:]
        for description in descriptions.values where description.active && description.isFSN {
            if let tag = semanticTag(of: description.term) { tags[description.concept] = tag }
        }
        var kept = Set<UInt64>()
        var preferred: [UInt64: (rank: Int, term: String)] = [:]
        var fsnTerms: [UInt64: String] = [:]
        for (id, description) in descriptions.sorted(by: { $0.key < $1.key }) where description.active {
            let concept = description.concept
            guard activeConcepts.contains(concept) else { continue }
            if let languages, !languages.contains(description.language) { continue }
            if useRefsets && memberRank[id] == nil { continue }
            if let semanticTags {
                guard let tag = tags[concept], semanticTags.contains(tag) else { continue }
            }
            kept.insert(concept)
            let term = description.isFSN ? stripTag(description.term) : description.term
            if description.isFSN {
                if fsnTerms[concept] == nil { fsnTerms[concept] = term }
            } else if let r = preferredRank[id], r < (preferred[concept]?.rank ?? .max) {
                preferred[concept] = (r, term)
            }
            builder.addDescription(term: term, code: String(concept), preferred: false)
            summary.descriptions += 1
        }
        for concept in kept.sorted() {
            if let term = preferred[concept]?.term ?? fsnTerms[concept] {
                builder.addDescription(term: term, code: String(concept), preferred: true)
                summary.preferredTerms += 1
            }
        }
        summary.concepts = kept.count
        let refsetNote = refsets.isEmpty ? "" : ", language reference sets \(summary.languageRefsets.joined(separator: ", "))"
        builder.sourceNotes.append(
            "SNOMED-CT RF2 \(directory.lastPathComponent): \(summary.concepts) active concepts, \(summary.descriptions) active descriptions\(refsetNote)")
        return summary
    }
}
