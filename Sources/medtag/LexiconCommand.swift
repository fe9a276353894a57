import ArgumentParser
import Foundation
import MedtagFormats
import MedtagIngest
import MedtagNormalize
import MedtagPipeline
import MedtagStorage
import MedtagText
import SystemPackage

/// `medtag lexicon …`: build, import, query, evaluate and time the SNOMED-CT lexicon.
struct LexiconCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lexicon",
        abstract: "Build and query the SNOMED-CT lexicon used for normalization.",
        subcommands: [Build.self, ImportRF2.self, Lookup.self, Evaluate.self, Score.self, Bench.self])

    /// Sources shared by `build` and `import-rf2`.
    struct SourceOptions: ParsableArguments {
        @Option(help: "Annotated BRAT folder (.ann with AnnotatorNotes codes); repeat for several.")
        var corpus: [String] = []

        @Option(help: "Name list without codes, one name a line (known substances whose code is unknown).")
        var gazetteer: String?

        @Option(help: "Abbreviation table to ship with the lexicon (copied next to it; default: an abbreviations.tsv already in the output folder).")
        var abbreviations: String?

        @Option(name: .shortAndLong, help: "Output lexicon folder (lexicon.mtlx + lexicon.json).")
        var out: String

        /// The files and folders these options read.
        var paths: [String?] { corpus + [gazetteer, abbreviations] }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the lexicon from annotated corpora, a name list and optionally an RF2 release.")

        @OptionGroup var sources: SourceOptions

        @Option(help: "SNOMED-CT RF2 release folder (snapshot files), if you hold a licence for one.")
        var rf2: String?

        func run() throws {
            try requireExisting(sources.paths + [rf2])
            var builder = LexiconBuilder()
            try addSources(sources, to: &builder)
            if let rf2 {
                let summary = try RF2Import.load(directory: URL(fileURLWithPath: rf2), into: &builder)
                print("RF2: \(summary.concepts) concepts, \(summary.descriptions) descriptions")
            }
            try write(builder, sources)
        }
    }

    struct ImportRF2: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-rf2",
            abstract: "Build the lexicon from a SNOMED-CT RF2 snapshot release (plus any corpora given).",
            discussion: """
                Reads the sct2_Concept_*, sct2_Description_* and der2_cRefset_Language* snapshot files found under DIR (the release folder as unpacked; full and delta files are skipped when snapshot files are there). Only active concepts and active descriptions are kept, and, when the release has language reference sets, only descriptions that belong to one of them; the preferred synonym becomes each concept's term. The semantic tag is taken off fully specified names and decides which hierarchies are kept: substances and products by default. A malformed file stops the import with its name, line and reason, and nothing is written.

                English (International edition):
                  medtag lexicon import-rf2 SnomedCT_InternationalRF2_PRODUCTION_.../ \\
                    --language en --out /var/lib/medtag/lexicon-en

                Then set `lexicon_en = /var/lib/medtag/lexicon-en` in medtag.conf, or MEDTAG_LEXICON_EN.
                """)

        @Argument(help: "RF2 release folder.")
        var directory: String

        @OptionGroup var sources: SourceOptions

        @Option(help: "Description language code to keep; repeat for several (default: all).")
        var language: [String] = []

        @Option(
            help: ArgumentHelp(
                "Language reference set id to follow, most preferred first; repeat for several.",
                discussion: "Default: every one in the release, US English (\(RF2Import.usEnglishRefset)) before GB English (\(RF2Import.gbEnglishRefset))."))
        var languageRefset: [String] = []

        @Option(help: "Also keep the hierarchy with this semantic tag (for example disorder, finding); repeat for several.")
        var hierarchy: [String] = []

        @Flag(help: "Keep every hierarchy, not only substances and products.")
        var allHierarchies = false

        func run() throws {
            try requireExisting(sources.paths + [directory])
            var builder = LexiconBuilder()
            try addSources(sources, to: &builder)
            let summary = try RF2Import.load(
                directory: URL(fileURLWithPath: directory), languages: language.isEmpty ? nil : Set(language),
                languageRefsets: languageRefset.isEmpty ? nil : languageRefset,
                semanticTags: allHierarchies ? nil : RF2Import.defaultSemanticTags.union(hierarchy), into: &builder)
            let refsets = summary.languageRefsets.isEmpty ? "no language reference set" : "language reference sets \(summary.languageRefsets.joined(separator: ", "))"
            print(
                "RF2: \(summary.concepts) concepts, \(summary.descriptions) descriptions, \(summary.preferredTerms) preferred terms "
                    + "(\(summary.inactiveConcepts) inactive concepts left out; \(refsets))")
            guard summary.concepts > 0 else {
                throw ValidationFailure(
                    "\(directory): no active concept of the chosen hierarchies and languages; nothing written (check --language, --language-refset and --hierarchy)")
            }
            try write(builder, sources)
        }
    }

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Normalize one mention and show how it matched.")

        @Argument(help: "Mention text.")
        var text: [String]

        @Option(help: "Entity label (PROTEINAS, NORMALIZABLES, UNCLEAR, NO_NORMALIZABLES).")
        var label: String = "NORMALIZABLES"

        @Option(help: "Lexicon folder (default: Models/lexicon).")
        var lexicon: String?

        func run() throws {
            let normalizer = try ConceptNormalizer.load(directory: try lexiconDirectory(lexicon))
            let m = normalizer.normalize(text.joined(separator: " "), label: label)
            let score = m.score.map { String(format: "%.3f", $0) } ?? "-"
            print("\(m.code)\t\(m.term ?? "-")\t\(m.method.rawValue)\t\(score)")
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Concept-indexing P/R/F1 on gold spans (normalization alone), with per-step figures.",
            discussion: """
                With --train, a lexicon is built from those folders only (plus --gazetteer) in a temporary \
                folder, so the figures on --gold are not inflated by its own annotations. Without it, \
                --lexicon (default Models/lexicon) is evaluated as is.
                """)

        @Option(help: "Gold BRAT folder to evaluate on.")
        var gold: String

        @Option(help: "Training BRAT folder for a fresh lexicon; repeat for several.")
        var train: [String] = []

        @Option(help: "Name list for the fresh lexicon.")
        var gazetteer: String?

        @Option(help: "Abbreviation table (default: the lexicon's, or Models/lexicon/abbreviations.tsv).")
        var abbreviations: String?

        @Option(help: "Lexicon folder when --train is not given.")
        var lexicon: String?

        @Flag(help: "Skip the abbreviation and brand steps.")
        var noAbbreviations = false

        @Flag(help: "Print every mention whose code is wrong.")
        var showErrors = false

        @Option(help: "Known names without a code: stop, levenshtein-only or ignore.")
        var uncodedNames: String = NormalizerOptions().uncodedNames.rawValue

        func run() throws {
            try requireExisting([gold, gazetteer, abbreviations, lexicon] + train)
            var options = NormalizerOptions()
            options.useAbbreviations = !noAbbreviations
            guard let policy = NormalizerOptions.UncodedNamePolicy(rawValue: uncodedNames) else {
                throw ValidationFailure("--uncoded-names must be stop, levenshtein-only or ignore")
            }
            options.uncodedNames = policy
            var normalizer: ConceptNormalizer
            if !train.isEmpty {
                var builder = LexiconBuilder()
                for folder in train { try addCorpus(folder, to: &builder) }
                if let gazetteer { try addGazetteer(gazetteer, to: &builder) }
                let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-lexicon-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: temporary) }
                try builder.write(to: temporary)
                normalizer = ConceptNormalizer(lexicon: try Lexicon.open(directory: temporary), options: options)
                let tableURL = abbreviations.map { URL(fileURLWithPath: $0) }
                    ?? (try? lexiconDirectory(nil))?.appendingPathComponent("abbreviations.tsv")
                if let tableURL { normalizer = ConceptNormalizer(lexicon: normalizer.lexicon, abbreviations: try AbbreviationTable(contentsOf: tableURL), options: options) }
            } else {
                normalizer = try ConceptNormalizer.load(directory: try lexiconDirectory(lexicon), options: options)
                if let abbreviations {
                    normalizer = ConceptNormalizer(
                        lexicon: normalizer.lexicon, abbreviations: try AbbreviationTable(contentsOf: URL(fileURLWithPath: abbreviations)),
                        options: options)
                }
            }
            let documents = try readGold(gold)
            let report = NormalizationEvaluation.evaluate(documents: documents, normalizer: normalizer, collectErrors: showErrors)
            print(report)
            if showErrors {
                for (mention, match) in report.errors {
                    print("\(match.method.rawValue)\t\(mention.label)\t\(mention.text)\tgold \(mention.code ?? "-")\tgot \(match.code)\t\(match.term ?? "")")
                }
            }
        }
    }

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Concept-indexing P/R/F1 of annotated output (.ann codes) against gold BRAT files.",
            discussion: "Use it on `medtag annotate` output to measure the full pipeline (predicted spans).")

        @Option(help: "Folder of predicted .ann files (searched recursively).")
        var predicted: String

        @Option(help: "Gold BRAT folder.")
        var gold: String

        func run() throws {
            func codes(_ folder: String) throws -> [String: Set<String>] {
                var out: [String: Set<String>] = [:]
                for (path, base, _) in try collectInputs([folder], extensions: ["ann"]) {
                    out[FilePath(base).fileName] = Set(try BRATFolder.annotations(at: path).compactMap(\.code))
                }
                return out
            }
            let gold = try codes(gold)
            var predicted = try codes(predicted)
            predicted = predicted.filter { gold[$0.key] != nil }
            print(ConceptIndexingScore(predicted: predicted, gold: gold))
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure normalization lookups per second (full cascade).",
            discussion: """
                Queries are the mentions of --mentions (a BRAT folder) with their labels, or, without it, \
                up to 2,000 lexicon keys each looked up as is and with one letter dropped (a typo), so \
                the exact, Levenshtein and fuzzy steps all run.
                """)

        @Option(help: "BRAT folder whose mentions are looked up.")
        var mentions: String?

        @Option(help: "Lexicon folder (default: Models/lexicon).")
        var lexicon: String?

        @Option(help: "Seconds to run.")
        var seconds: Double = 3

        func run() throws {
            let normalizer = try ConceptNormalizer.load(directory: try lexiconDirectory(lexicon))
            var queries: [(text: String, label: String)] = []
            try requireExisting([mentions])
            if let mentions {
                queries = try readGold(mentions).flatMap(\.mentions).map { ($0.text, $0.label) }
            } else {
                let lex = normalizer.lexicon
                let step = max(1, lex.keyCount / 2000)
                for index in stride(from: 0, to: lex.keyCount, by: step) {
                    let key = lex.key(at: index)
                    queries.append((key, "NORMALIZABLES"))
                    var typo = Array(key)
                    if typo.count > 4 { typo.remove(at: typo.count / 2) }
                    queries.append((String(typo), "PROTEINAS"))
                }
            }
            guard !queries.isEmpty else { throw ValidationFailure("no queries: the folder has no mentions or the lexicon is empty") }
            let clock = ContinuousClock()
            let start = clock.now
            let deadline = start + .milliseconds(Int(seconds * 1000))
            var lookups = 0
            var coded = 0
            var methods: [MatchMethod: Int] = [:]
            while clock.now < deadline {
                for q in queries {
                    let m = normalizer.normalize(q.text, label: q.label)
                    if m.code != ConceptMatch.nullCode { coded += 1 }
                    methods[m.method, default: 0] += 1
                }
                lookups += queries.count
            }
            let elapsed = clock.now - start
            let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = Double(lookups) / secondsElapsed
            let mix = MatchMethod.allCases.compactMap { m in methods[m].map { "\(m.rawValue) \(Int((100 * Double($0) / Double(lookups)).rounded()))%" } }
            print("normalization: \(Int(rate)) lookups/s (\(lookups) lookups of \(queries.count) queries in \(String(format: "%.2f", secondsElapsed)) s; \(mix.joined(separator: ", ")))")
        }
    }
}

/// The lexicon folder: the one given, else the default under `Models/`.
private func lexiconDirectory(_ path: String?) throws -> URL {
    if let path {
        try requireExisting([path])
        return URL(fileURLWithPath: path)
    }
    if let url = try modelCatalog().entry(for: .primary).lexicon?.url { return url }
    throw ValidationFailure("no lexicon found: pass --lexicon or set MEDTAG_LEXICON (expected Models/lexicon/lexicon.json)")
}

/// Gold mentions of every `.ann` in a folder.
private func readGold(_ folder: String) throws -> [(id: String, mentions: [GoldMention])] {
    let gold = BRATFolder(folder)
    return try gold.annotatedIDs().map { id in
        (id, try gold.annotations(id).map { GoldMention(label: $0.label, text: $0.text, code: $0.code) })
    }
}

private func addCorpus(_ folder: String, to builder: inout LexiconBuilder) throws {
    let documents = try readGold(folder)
    var mentions = 0
    for document in documents {
        for m in document.mentions {
            guard let code = m.code else { continue }
            builder.addMention(text: m.text, label: m.label, code: code)
            mentions += 1
        }
    }
    builder.sourceNotes.append("annotated corpus \(FilePath(folder).fileName): \(documents.count) documents, \(mentions) coded mentions")
}

private func addGazetteer(_ path: String, to builder: inout LexiconBuilder) throws {
    let text: String
    do { text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) } catch {
        throw ValidationFailure("\(path): cannot read name list: \(error.localizedDescription)")
    }
    let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    for name in names { builder.addName(name) }
    builder.sourceNotes.append("name list \(FilePath(path).fileName): \(names.count) names without codes")
}

private func addSources(_ sources: LexiconCommand.SourceOptions, to builder: inout LexiconBuilder) throws {
    for folder in sources.corpus { try addCorpus(folder, to: &builder) }
    if let gazetteer = sources.gazetteer { try addGazetteer(gazetteer, to: &builder) }
}

private func write(_ builder: LexiconBuilder, _ sources: LexiconCommand.SourceOptions) throws {
    let out = URL(fileURLWithPath: sources.out)
    var tableName: String?
    if let abbreviations = sources.abbreviations {
        let from = URL(fileURLWithPath: abbreviations)
        _ = try AbbreviationTable(contentsOf: from)  // refuse to ship a table that does not parse
        tableName = from.lastPathComponent
        let to = out.appendingPathComponent(from.lastPathComponent)
        if from.standardizedFileURL.path != to.standardizedFileURL.path {
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try AtomicFile.write(Array(try Data(contentsOf: from)), to: to)
        }
    }
    if tableName == nil {
        // Keep using a table already shipped in the output folder.
        let existing = out.appendingPathComponent("abbreviations.tsv")
        if FileManager.default.fileExists(atPath: existing.path) {
            _ = try AbbreviationTable(contentsOf: existing)
            tableName = existing.lastPathComponent
        }
    }
    let manifest = try builder.write(to: out, abbreviations: tableName)
    print("\(manifest.keys) keys, \(manifest.codes) codes, \(manifest.postings) postings, \(manifest.bytes) bytes → \(out.path)")
}
