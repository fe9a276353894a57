import Foundation
import MedtagFormats
import MedtagText
import Testing
import MedtagTestSupport

/// What `medtag annotate` leaves in its output folder, seen as a researcher uses it: one table per
/// run with keys that never collide, and a folder the PharmaCoNER scorer reads right. The runs are
/// made in the test process (``AnnotateHarness``); `medtag evaluate` and the README's recipe run the binary.
@Suite(.serialized)
struct ResultLayoutTests {
    static let notes = [
        "Se pautó omeprazol 20 mg y paracetamol 1 g.\n",
        "Tratamiento con enalapril y ibuprofeno 600 mg.\n",
        "Recibió insulina glargina y heparina.\n",
        "Sin cambios; sigue con paracetamol.\n",
    ]

    /// A folder `notas/` with `nota.txt` and `ward3/nota.txt`, and two archives that both hold `notas/n1.txt`.
    static func inputs(in root: URL) throws -> [URL] {
        let folder = root.appendingPathComponent("notas")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("ward3"), withIntermediateDirectories: true)
        try Data(notes[0].utf8).write(to: folder.appendingPathComponent("nota.txt"))
        try Data(notes[1].utf8).write(to: folder.appendingPathComponent("ward3/nota.txt"))
        var archives: [URL] = []
        for (name, text) in [("a", notes[2]), ("b", notes[3])] {
            let source = root.appendingPathComponent("src-\(name)/notas")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: source.appendingPathComponent("n1.txt"))
            let archive = root.appendingPathComponent("\(name).tar.gz")
            #expect(try run(URL(fileURLWithPath: "/bin/tar"), ["-czf", archive.path, "-C", source.deletingLastPathComponent().path, "notas"]).status == 0)
            archives.append(archive)
        }
        return [folder] + archives
    }

    /// The rows of a CSV as written by medtag (no quoted line breaks in these notes).
    static func rows(_ csv: String) -> [[String]] {
        csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func oneTableForTheRunWithTheInputAndAKeyUniqueInIt() throws {
        let root = try temporaryDirectory("layout")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out")
        let result = try AnnotateHarness.run(try Self.inputs(in: root), out: out)
        #expect(result.status == 0, "\(result.warningText)")

        let bytes = [UInt8](try Data(contentsOf: out.appendingPathComponent(ResultTable.csvName)))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "a byte order mark")
        let csv = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        #expect(csv.hasPrefix("input,document,entity_id,label,"))
        #expect(!csv.contains("\u{FEFF}"), "one byte order mark")
        #expect(csv.components(separatedBy: "input,document,entity_id").count == 2, "header once")
        let rows = Self.rows(csv).dropFirst()
        let documents = Set(rows.map { "\($0[0]) \($0[1])" })
        #expect(
            documents == ["notas nota", "notas ward3/nota", "a.tar.gz a.tar.gz/notas/n1", "b.tar.gz b.tar.gz/notas/n1"],
            "\(documents)")
        #expect(rows.contains { $0[1] == "ward3/nota" && $0[6] == "enalapril" })
        #expect(rows.contains { $0[1] == "b.tar.gz/notas/n1" && $0[6] == "paracetamol" })

        // No table per document unless asked for; the subtrack-2 table keys documents the same way.
        let files = try FileManager.default.subpathsOfDirectory(atPath: out.path).sorted()
        #expect(!files.contains { $0.hasSuffix(".csv") && $0 != ResultTable.csvName }, "\(files)")
        let tsv = try String(contentsOf: out.appendingPathComponent(ResultTable.tsvName), encoding: .utf8)
        #expect(Set(tsv.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }).contains("a.tar.gz/notas/n1"))
        // By default each document's subtrack-2 file too, in subtrack2/ under the document's key;
        // the table lies apart, in tables/, and no .tsv sits beside the .ann files.
        #expect(
            files.filter { $0.hasSuffix(".tsv") } == [
                "subtrack2/a.tar.gz/notas/n1.tsv", "subtrack2/b.tar.gz/notas/n1.tsv", "subtrack2/nota.tsv", "subtrack2/ward3/nota.tsv",
                ResultTable.tsvName,
            ], "\(files)")

        // Per-document tables on request: the same rows, a header in each.
        let each = root.appendingPathComponent("each")
        let again = try AnnotateHarness.run([root.appendingPathComponent("notas")], out: each, formats: [.brat, .csvDocuments, .tsvDocuments])
        #expect(again.status == 0, "\(again.warningText)")
        let eachFiles = try FileManager.default.subpathsOfDirectory(atPath: each.path).filter { $0.contains(".") }.sorted()
        #expect(
            eachFiles == [
                "nota.ann", "nota.csv", "nota.txt", "subtrack2", "subtrack2/nota.tsv", "subtrack2/ward3", "subtrack2/ward3/nota.tsv",
                "summary.html", "ward3", "ward3/nota.ann", "ward3/nota.csv", "ward3/nota.txt",
            ].filter { $0.contains(".") }, "\(eachFiles)")
        let one = String(decoding: try Data(contentsOf: each.appendingPathComponent("ward3/nota.csv")).dropFirst(3), as: UTF8.self)
        let oneRows = Self.rows(one)
        #expect(oneRows.first?.first == "input" && oneRows.count > 1)
        #expect(oneRows.dropFirst().allSatisfy { $0[0] == "notas" && $0[1] == "ward3/nota" })
    }

    /// The PharmaCoNER scorer as it reads a folder: every `.ann` and `.tsv` in it (not below), each a
    /// document named by the file's stem, a later file replacing an earlier one of the same stem
    /// (`X.tsv` is listed after `X.ann`); strict span and label, micro-averaged.
    static func officialScorerF1(gold: URL, system: URL) throws -> Double {
        func read(_ folder: URL) throws -> [String: Set<String>] {
            var documents: [String: Set<String>] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                let url = folder.appendingPathComponent(name)
                guard name.hasSuffix(".ann") || name.hasSuffix(".tsv") else { continue }
                let text = try String(contentsOf: url, encoding: .utf8)
                // A .tsv holds codes, no mention: read as a document it has none.
                let entities = name.hasSuffix(".ann") ? try BRAT.parse(text) : []
                documents[String(name.dropLast(4))] = Set(entities.map { "\($0.start) \($0.end) \($0.label)" })
            }
            return documents
        }
        let goldDocuments = try read(gold)
        let systemDocuments = try read(system)
        var tp = 0, fp = 0, fn = 0
        for (id, mentions) in goldDocuments {
            let predicted = systemDocuments[id] ?? []
            tp += mentions.intersection(predicted).count
            fn += mentions.subtracting(predicted).count
            fp += predicted.subtracting(mentions).count
        }
        for (id, predicted) in systemDocuments where goldDocuments[id] == nil { fp += predicted.count }
        let precision = Double(tp) / Double(max(tp + fp, 1))
        let recall = Double(tp) / Double(max(tp + fn, 1))
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    @Test func theOfficialScorerReadsTheAnnotateFolderAsMedtagEvaluateDoes() throws {
        let root = try temporaryDirectory("scorer")
        defer { try? FileManager.default.removeItem(at: root) }
        // Gold: medtag's own annotations of a few notes, with one mention of each removed and one
        // label changed, so the figure is neither 0 nor 1.
        let texts = root.appendingPathComponent("texts")
        try FileManager.default.createDirectory(at: texts, withIntermediateDirectories: true)
        let sample = try String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)
        for (k, note) in Self.notes.enumerated() { try Data((note + sample).utf8).write(to: texts.appendingPathComponent("caso\(k).txt")) }
        let first = root.appendingPathComponent("first")
        #expect(try AnnotateHarness.run([texts], out: first, formats: [.brat]).status == 0)
        let gold = root.appendingPathComponent("gold")
        try FileManager.default.createDirectory(at: gold, withIntermediateDirectories: true)
        for k in Self.notes.indices {
            var entities = try BRAT.parse(try String(contentsOf: first.appendingPathComponent("caso\(k).ann"), encoding: .utf8))
            #expect(entities.count > 3)
            entities.removeFirst()
            entities[0].label = entities[0].label == "PROTEINAS" ? "NORMALIZABLES" : "PROTEINAS"
            var document = Document(id: "caso\(k)", text: "")
            document.entities = entities
            try Data(BRAT.render(document).utf8).write(to: gold.appendingPathComponent("caso\(k).ann"))
            try FileManager.default.copyItem(at: texts.appendingPathComponent("caso\(k).txt"), to: gold.appendingPathComponent("caso\(k).txt"))
        }

        // Every format, per-document subtrack-2 files included, as a researcher asks for them.
        let out = root.appendingPathComponent("out")
        let annotate = try AnnotateHarness.run([texts], out: out, formats: [.brat, .conll, .csv, .tsv, .csvDocuments, .tsvDocuments])
        #expect(annotate.status == 0, "\(annotate.warningText)")
        let evaluate = try run(Paths.medtag, ["evaluate", "ner", gold.path, out.path, "--format", "csv"])
        let micro = try #require(evaluate.out.split(separator: "\n").first { $0.hasPrefix("micro,ALL,") })
        let medtagF1 = try #require(Double(micro.split(separator: ",").last.map(String.init) ?? ""))
        #expect(medtagF1 > 0.5 && medtagF1 < 1)
        let official = try Self.officialScorerF1(gold: gold, system: out)
        #expect(abs(official - medtagF1) < 0.00005, "official scorer \(official), medtag evaluate \(medtagF1)")

        // `medtag evaluate run --out` writes a folder the scorer reads the same way.
        let runOut = root.appendingPathComponent("run-out")
        let evaluated = try run(Paths.medtag, ["evaluate", "run", "--gold", gold.path, "--out", runOut.path, "--format", "csv"])
        #expect(evaluated.status == 0, "\(evaluated.err)")
        let runMicro = try #require(evaluated.out.split(separator: "\n").first { $0.hasPrefix("micro,ALL,") })
        let runF1 = try #require(Double(runMicro.split(separator: ",").last.map(String.init) ?? ""))
        #expect(abs(try Self.officialScorerF1(gold: gold, system: runOut) - runF1) < 0.00005)
        #expect(FileManager.default.fileExists(atPath: runOut.appendingPathComponent("subtrack2/caso0.tsv").path))

        // Concept indexing from the subtrack-2 table equals that from the per-document files.
        let fromTable = try run(Paths.medtag, ["evaluate", "indexing", gold.path, out.appendingPathComponent(ResultTable.tsvName).path, "--format", "csv"])
        let fromFolder = try run(Paths.medtag, ["evaluate", "indexing", gold.path, out.appendingPathComponent("subtrack2").path, "--format", "csv"])
        #expect(fromTable.status == 0 && fromFolder.status == 0, "\(fromTable.err)\(fromFolder.err)")
        #expect(fromTable.out == fromFolder.out && fromTable.out.contains("micro"), "\(fromTable.out)\n\(fromFolder.out)")
    }

    /// The README's recipe for the official PharmaCoNER script: its code block, `medtag` lines only.
    static func readmeRecipe() throws -> (commands: [String], block: String) {
        let readme = try String(contentsOf: Paths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let heading = readme.range(of: "**Scoring with the official PharmaCoNER script.**"),
            let open = readme.range(of: "```sh\n", range: heading.upperBound..<readme.endIndex),
            let close = readme.range(of: "```", range: open.upperBound..<readme.endIndex)
        else { throw TestFailure("README.md has no code block after **Scoring with the official PharmaCoNER script.**") }
        let block = String(readme[open.upperBound..<close.lowerBound])
        return (block.split(separator: "\n").map(String.init), block)
    }

    /// The PharmaCoNER script's concept indexing as it reads two folders: every `.tsv` directly in
    /// each, a document named by the file's stem, its codes the second column; micro-averaged over
    /// the documents. Returns the F1 and the documents that match nothing on the other side (the
    /// script prints a warning for each).
    static func officialIndexing(gold: URL, system: URL) throws -> (f1: Double, unmatched: Set<String>) {
        func read(_ folder: URL) throws -> [String: Set<String>] {
            var documents: [String: Set<String>] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".tsv") {
                let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                documents[String(name.dropLast(4))] = Set(text.split(separator: "\n").compactMap { line in
                    let fields = line.split(separator: "\t")
                    return fields.count >= 2 ? String(fields[1]) : nil
                })
            }
            return documents
        }
        let goldDocuments = try read(gold)
        let systemDocuments = try read(system)
        var tp = 0, fp = 0, fn = 0
        for (id, codes) in goldDocuments {
            let predicted = systemDocuments[id] ?? []
            tp += codes.intersection(predicted).count
            fn += codes.subtracting(predicted).count
            fp += predicted.subtracting(codes).count
        }
        let unmatched = Set(goldDocuments.keys).symmetricDifference(systemDocuments.keys)
        let precision = Double(tp) / Double(max(tp + fp, 1))
        let recall = Double(tp) / Double(max(tp + fn, 1))
        return (precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), unmatched)
    }

    /// The micro F1 of a `medtag evaluate ... --format csv` run, and its standard error.
    static func medtagF1(_ arguments: [String]) throws -> (f1: Double, err: String) {
        let result = try run(Paths.medtag, arguments + ["--format", "csv"])
        #expect(result.status == 0, "\(arguments): \(result.err)")
        let micro = try #require(result.out.split(separator: "\n").first { $0.hasPrefix("micro,") }, "\(arguments): \(result.out)")
        return (try #require(Double(micro.split(separator: ",").last.map(String.init) ?? "")), result.err)
    }

    @Test(.enabled(if: Paths.hasPharmaconer, "PharmaCoNER corpus not found (set MEDTAG_CORPORA)"))
    func theREADMERecipeForTheOfficialScriptScoresEachDocument() throws {
        let root = try temporaryDirectory("recipe")
        defer { try? FileManager.default.removeItem(at: root) }
        // DEV: the first 30 PharmaCoNER dev documents, and one with no mention (an empty .ann).
        let dev = root.appendingPathComponent("DEV")
        try FileManager.default.createDirectory(at: dev, withIntermediateDirectories: true)
        let corpus = Paths.pharmaconer.appendingPathComponent("dev")
        let ids = Array(try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".ann") }.sorted().prefix(30))
            .map { String($0.dropLast(4)) } + ["sin-menciones"]
        for id in ids.dropLast() {
            for ext in ["txt", "ann"] {
                try FileManager.default.copyItem(at: corpus.appendingPathComponent("\(id).\(ext)"), to: dev.appendingPathComponent("\(id).\(ext)"))
            }
        }
        try Data("Paciente de 40 años sin antecedentes de interés.\n".utf8).write(to: dev.appendingPathComponent("sin-menciones.txt"))
        try Data().write(to: dev.appendingPathComponent("sin-menciones.ann"))

        // The recipe's commands as written, with DEV, OUT and DEV-tsv standing for folders here.
        let recipe = try Self.readmeRecipe()
        func resolve(_ word: String) -> String {
            for (name, folder) in [("DEV-tsv", "DEV-tsv"), ("DEV", "DEV"), ("OUT", "OUT")] where word == name || word.hasPrefix(name + "/") {
                return root.appendingPathComponent(folder + word.dropFirst(name.count)).path
            }
            return word
        }
        func words(_ command: Substring) -> [String] { command.split(separator: " ").map { resolve(String($0)) } }
        var scripts: [(subtrack: String, gold: URL, system: URL, same: [String])] = []
        for line in recipe.commands {
            let command = line.split(separator: "#", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces)
            let parts = words(Substring(command))
            if parts.first == "medtag" {
                let result = try run(Paths.medtag, Array(parts.dropFirst()))
                #expect(result.status == 0, "\(command): \(result.err)")
            } else if parts.starts(with: ["python3", "evaluate.py"]) {
                // The external script: what it reads is checked below; the comment names the medtag
                // command that gives its figure.
                let comment = try #require(line.split(separator: "#", maxSplits: 1).last?.components(separatedBy: "as ").last, "\(line)")
                scripts.append((parts[2], URL(fileURLWithPath: parts[3]), URL(fileURLWithPath: parts[4]), Array(words(Substring(comment)).dropFirst())))
            } else {
                Issue.record("a line of the recipe that is neither medtag nor the script: \(line)")
            }
        }
        #expect(scripts.map(\.subtrack) == ["ner", "indexing"], "\(recipe.block)")

        let out = root.appendingPathComponent("OUT")
        let documentFiles = { (ext: String) in Set(ids.map { "\($0).\(ext)" }) }
        func tsvFiles(_ folder: URL) throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tsv") })
        }
        for script in scripts {
            let medtag = try Self.medtagF1(script.same)
            #expect(!medtag.err.contains("WARNING"), "\(script.same): \(medtag.err)")
            switch script.subtrack {
            case "ner":
                // Subtrack 1: the .ann files of OUT, and no .tsv among them to take a document's place.
                #expect(try tsvFiles(script.system).isEmpty, "no .tsv beside the .ann files")
                let official = try Self.officialScorerF1(gold: script.gold, system: script.system)
                #expect(abs(official - medtag.f1) < 0.00005, "official scorer \(official), \(script.same): \(medtag.f1)")
            default:
                // Subtrack 2: one .tsv per document on each side and nothing else (the script takes
                // every .tsv for a document), the empty ones of documents without a code included.
                #expect(script.system == out.appendingPathComponent(ResultTable.subtrack2Folder))
                #expect(try FileManager.default.contentsOfDirectory(atPath: script.system.path).sorted() == documentFiles("tsv").sorted())
                #expect(try FileManager.default.contentsOfDirectory(atPath: script.gold.path).sorted() == documentFiles("tsv").sorted())
                let empty = { (folder: URL) in try ids.filter { try Data(contentsOf: folder.appendingPathComponent("\($0).tsv")).isEmpty } }
                #expect(try empty(script.gold).contains("sin-menciones"), "a gold document without a code has an empty file")
                #expect(try !empty(script.system).isEmpty, "documents without a code have an empty file")
                let official = try Self.officialIndexing(gold: script.gold, system: script.system)
                #expect(official.unmatched.isEmpty, "the script would warn about \(official.unmatched)")
                #expect(abs(official.f1 - medtag.f1) < 0.00005, "official script \(official.f1), \(script.same): \(medtag.f1)")
                // medtag reads the same folders, and the run's table, to the same per-document figure.
                for arguments in [
                    ["evaluate", "indexing", script.gold.path, script.system.path],
                    ["evaluate", "indexing", dev.path, out.appendingPathComponent(ResultTable.tsvName).path],
                ] {
                    let again = try Self.medtagF1(arguments)
                    #expect(again.f1 == medtag.f1 && !again.err.contains("WARNING"), "\(arguments): \(again)")
                }
            }
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(ResultTable.tsvName).path), "the run's table")
    }
}
