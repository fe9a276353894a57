import Foundation
import MedtagFormats
import MedtagPipeline
import MedtagText
import Testing
import MedtagTestSupport

/// The `medtag` binary run as a user runs it; what a run writes is checked on runs made in the test
/// process (``AnnotateHarness``).
@Suite(.serialized)
struct CommandLineTests {
    @Test func annotateInSmallPiecesWritesTheFilesOfWholeDocuments() throws {
        let inputs = try temporaryDirectory("pieces-in")
        defer { try? FileManager.default.removeItem(at: inputs) }
        let sample = try String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)
        let long = (1...30).map { "\(sample)Control \($0): sin cambios.\n\n" }.joined()
        try Data(long.utf8).write(to: inputs.appendingPathComponent("larga.txt"))
        var outputs: [[String: Data]] = []
        for (pieceBytes, shard) in [(FolderAnnotation.Options.defaultPieceBytes, nil), (1024, nil), (1024, try Shard(parsing: "0/1"))] {
            let out = try temporaryDirectory("pieces-out")
            defer { try? FileManager.default.removeItem(at: out) }
            let result = try AnnotateHarness.run([inputs], out: out, model: nil, shard: shard, pieceBytes: pieceBytes)
            #expect(result.status == 0, "\(result.warningText)")
            let folder = shard != nil ? out.appendingPathComponent("shard-0-of-1") : out
            var files: [String: Data] = [:]
            for (key, name) in [
                ("ann", "larga.ann"), ("txt", "larga.txt"), ("conll", "larga.conll"), ("csv", ResultTable.csvName), ("tsv", ResultTable.tsvName),
            ] {
                files[key] = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
            }
            outputs.append(files)
            if shard != nil {
                // The shard manifest's checksums are those of the files, computed as they were written.
                let merged = try run(Paths.medtag, ["merge", out.path])
                #expect(merged.status == 0, "\(merged.err)")
            }
        }
        #expect(outputs[0].count == 5 && outputs[0]["txt"] == Data(long.utf8))
        #expect((outputs[0]["ann"]?.count ?? 0) > 2_000)
        #expect(outputs[1] == outputs[0], "1 KB pieces give the files of the whole document")
        #expect(outputs[2] == outputs[0], "and so does a shard")
    }

    @Test func annotateWritesEveryFormatWithExactOffsets() throws {
        let out = try temporaryDirectory("annotate")
        defer { try? FileManager.default.removeItem(at: out) }
        let inputs = try temporaryDirectory("inputs")
        defer { try? FileManager.default.removeItem(at: inputs) }
        try FileManager.default.createDirectory(at: inputs.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let sample = try String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)
        try Data(sample.utf8).write(to: inputs.appendingPathComponent("sub/caso.txt"))
        try Data("<doc><title>Caso</title><p>Tratado con paracetamol y enalapril.</p></doc>".utf8)
            .write(to: inputs.appendingPathComponent("nota.xml"))
        try Data([0x41, 0xE1, 0x42]).write(to: inputs.appendingPathComponent("latin1.txt"))

        let result = try AnnotateHarness.run([inputs], out: out, model: nil)
        #expect(result.status == 1, "a bad input makes the exit status 1")
        #expect(result.warningText.contains("latin1.txt"))
        #expect(result.warningText.contains("not valid UTF-8"))
        #expect(result.summary.contains("annotated 2 of 3 documents"))

        for base in ["sub/caso", "nota"] {
            for ext in ["ann", "txt", "conll"] {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(base).\(ext)").path), "\(base).\(ext)")
            }
            let text = try String(contentsOf: out.appendingPathComponent("\(base).txt"), encoding: .utf8)
            let entities = try BRAT.parse(try String(contentsOf: out.appendingPathComponent("\(base).ann"), encoding: .utf8))
            #expect(!entities.isEmpty)
            let document = Document(id: base, text: text)
            for entity in entities { #expect(document.text(from: entity.start, to: entity.end) == entity.text) }
        }
        let ann = try String(contentsOf: out.appendingPathComponent("sub/caso.ann"), encoding: .utf8)
        #expect(ann.contains("\tenalapril\n"))
        #expect(ann.contains("\tparacetamol\n"))
        // The default pipeline normalizes with the shipped lexicon: SNOMED-CT 372658000 is enalapril.
        let csv = try String(contentsOf: out.appendingPathComponent(ResultTable.csvName), encoding: .utf8)
        #expect(csv.contains(",sub/caso,T1,") && csv.contains(",enalapril,372658000,enalapril,exact,1,1\r\n"))
        #expect(ann.contains("AnnotatorNotes"))
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test(.enabled(if: Paths.hasPharmaconer, "PharmaCoNER corpus not found (set MEDTAG_CORPORA)"))
    func convertRoundTripsBRATThroughCoNLL() throws {
        let dir = try temporaryDirectory("convert")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dev = Paths.pharmaconer.appendingPathComponent("dev")
        let conll = dir.appendingPathComponent("dev.conll")
        let forward = try run(Paths.medtag, ["convert", "--scheme", "bmewov", dev.path, "--out", conll.path])
        #expect(forward.status == 0, "\(forward.err)")
        #expect(forward.out.contains("250 documents"))
        let back = try run(
            Paths.medtag, ["convert", "--to", "brat", "--scheme", "bmewov", conll.path, "--texts", dev.path, "--out", dir.appendingPathComponent("brat").path])
        #expect(back.status == 0, "\(back.err)")
        var same = 0
        var total = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: dev.path) where name.hasSuffix(".ann") {
            let gold = try BRAT.parse(try String(contentsOf: dev.appendingPathComponent(name), encoding: .utf8))
            let again = try BRAT.parse(try String(contentsOf: dir.appendingPathComponent("brat/\(name)"), encoding: .utf8))
            let key = { (e: Entity) in "\(e.label) \(e.start) \(e.end) \(e.text)" }
            total += gold.count
            same += Set(gold.map(key)).intersection(again.map(key)).count
        }
        print("convert: \(same) of \(total) dev mentions identical after BRAT → CoNLL → BRAT")
        #expect(total == 1926)
        #expect(Double(same) / Double(total) > 0.99)
    }

    @Test func aMissingPathIsNamedAsAShellToolNamesIt() throws {
        let missing = "/nonexistent-\(UUID().uuidString)"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        for arguments in [
            ["annotate", missing, "--out", out], ["tokenize", missing], ["convert", "--to", "conll", missing, "--out", out + ".conll"],
            ["tag-conll", missing, "--out", out + ".tsv"], ["merge", missing], ["evaluate", "ner", missing, missing],
            ["evaluate", "indexing", missing, missing], ["evaluate", "run", "--gold", missing], ["evaluate", "conll", missing, missing],
            ["status", "--spool", missing], ["status", "--config", missing], ["serve", "--config", missing],
            ["ingest", "--spool", out, missing], ["ingest", "--spool", out, "--from", missing], ["ingest", "--config", missing, "--spool", out],
            ["lexicon", "build", "--corpus", missing, "--out", out], ["lexicon", "build", "--gazetteer", missing, "--out", out],
            ["lexicon", "import-rf2", missing, "--out", out], ["lexicon", "evaluate", "--gold", missing], ["lexicon", "lookup", "--lexicon", missing, "x"],
            ["lexicon", "bench", "--mentions", missing], ["lexicon", "score", "--predicted", missing, "--gold", missing],
            ["model", "build-gazetteer", "--corpus", missing, "--out", out], ["bench", "--model", "es-pharmaconer-ensemble", missing],
            ["convert", "--to", "tsv", missing, "--out", out],
        ] {
            let result = try run(Paths.medtag, arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.err.hasPrefix("medtag: \(missing): No such file or directory"), "\(arguments): \(result.err)")
            #expect(!result.err.contains("NSCocoaErrorDomain") && !result.err.contains("Error: "), "\(arguments): \(result.err)")
        }
    }

    /// Every command's help, at a width that wraps nothing, keeps each paragraph on one line: two
    /// lines in a row that start at the margin (or in an option's discussion) are a paragraph broken
    /// in the source. No default is said twice, and every argument says what it takes.
    @Test func helpTextsKeepParagraphsWhole() throws {
        var commands: [[String]] = [[]]
        var checked = 0
        while !commands.isEmpty {
            let command = commands.removeFirst()
            let help = try run(Paths.medtag, command + ["--help"], environment: ["COLUMNS": "1000"])
            #expect(help.status == 0, "\(command): \(help.err)")
            let name = (["medtag"] + command).joined(separator: " ")
            let lines = help.out.components(separatedBy: "\n")
            for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !next.isEmpty {
                let atMargin = !line.hasPrefix(" ") && !next.hasPrefix(" ")
                let inOptionDiscussion = line.hasPrefix("        ") && next.hasPrefix("        ") && !line.hasPrefix("          ")
                #expect(!atMargin && !inOptionDiscussion, "\(name): a paragraph broken after \"\(line)\"")
            }
            #expect(help.out.range(of: #"\(default: [^)]*\)\. \(default:"#, options: .regularExpression) == nil, "\(name): a default said twice")
            if let arguments = help.out.components(separatedBy: "ARGUMENTS:\n").dropFirst().first?.components(separatedBy: "\n\n").first {
                for line in arguments.components(separatedBy: "\n") where line.range(of: #"^  <[^>]+>( \.\.\.)?\s*$"#, options: .regularExpression) != nil {
                    Issue.record("\(name): the argument \(line.trimmingCharacters(in: .whitespaces)) has no description")
                }
            }
            if let list = help.out.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first {
                for line in list.components(separatedBy: "\n") {
                    guard line.hasPrefix("  "), !line.hasPrefix("   "), let sub = line.split(separator: " ").first, sub != "See", sub != "help" else { continue }
                    commands.append(command + [String(sub)])
                }
            }
            checked += 1
        }
        #expect(checked > 20, "every command and subcommand: \(checked)")
    }

    @Test func modelsAreNamedByTheirInstalledName() throws {
        let out = try temporaryDirectory("model-name")
        defer { try? FileManager.default.removeItem(at: out) }
        let named = try run(Paths.medtag, ["annotate", "samples", "--out", out.path, "--model", "es-pharmaconer-gazetteer"])
        #expect(named.status == 0, "\(named.err)")
        #expect(named.out.contains("with es-pharmaconer-gazetteer"))
        let unknown = try run(Paths.medtag, ["annotate", "samples", "--out", out.path, "--model", "es-no-such-model"])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("es-no-such-model") && unknown.err.contains("installed: ") && unknown.err.contains("es-pharmaconer-gazetteer"), "\(unknown.err)")
        let evaluate = try run(Paths.medtag, ["evaluate", "run", "--gold", out.path, "--model", "es-no-such-model"])
        #expect(evaluate.status != 0 && evaluate.err.contains("installed: "), "\(evaluate.err)")
    }

    @Test func scoringTheDocumentsTheLexiconWasBuiltFromIsWarnedAbout() throws {
        let root = try temporaryDirectory("lexicon-overlap")
        defer { try? FileManager.default.removeItem(at: root) }
        // The shipped lexicon names its sources `annotated corpus train` and `annotated corpus dev`.
        for name in ["dev", "held-out"] {
            let gold = root.appendingPathComponent(name)
            let annotated = try AnnotateHarness.run([Paths.packageRoot.appendingPathComponent("samples")], out: gold, formats: [.brat])
            #expect(annotated.status == 0, "\(annotated.warningText)")
            let result = try run(Paths.medtag, ["evaluate", "run", "--gold", gold.path, "--model", "es-pharmaconer-gazetteer"])
            #expect(result.status == 0, "\(result.err)")
            let warned = result.err.contains("was built from the documents scored here (annotated corpus dev:")
            #expect(warned == (name == "dev"), "\(name): \(result.err)")
        }
    }

    @Test func annotateRefusesWhatTheDaemonRefuses() throws {
        let root = try temporaryDirectory("refuse")
        defer { try? FileManager.default.removeItem(at: root) }
        let pdf = root.appendingPathComponent("informe.pdf")
        try Data("%PDF-1.4\nparacetamol\n".utf8).write(to: pdf)
        let utf16 = root.appendingPathComponent("nota16.txt")
        try Data([0xFF, 0xFE] + Array("paracetamol".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: utf16)
        let out = root.appendingPathComponent("out")
        let result = try run(Paths.medtag, ["annotate", pdf.path, utf16.path, "samples/caso-clinico.txt", "--out", out.path])
        #expect(result.status == 1)
        #expect(result.err.contains("\(pdf.path): unsupported input type (medtag reads .txt, .xml"), "\(result.err)")
        #expect(result.err.contains("nota16.txt") && result.err.contains("UTF-16"), "\(result.err)")
        #expect(result.out.contains("annotated 1 of 3 documents"), "\(result.out)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("informe.ann").path))

        // Two files of one name from two folders would write the same results: the second is refused.
        for folder in ["sala1", "sala2"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try Data("Nota de \(folder) con paracetamol.\n".utf8).write(to: root.appendingPathComponent("\(folder)/nota.txt"))
        }
        let same = root.appendingPathComponent("same")
        let twice = try run(
            Paths.medtag, ["annotate", root.appendingPathComponent("sala1/nota.txt").path, root.appendingPathComponent("sala2/nota.txt").path, "--out", same.path])
        #expect(twice.status == 1)
        #expect(twice.err.contains("sala2/nota.txt: its results would overwrite those of") && twice.err.contains("sala1/nota.txt"), "\(twice.err)")
        #expect(try String(contentsOf: same.appendingPathComponent("nota.txt"), encoding: .utf8) == "Nota de sala1 con paracetamol.\n")
    }

    @Test func unknownFormatIsRefusedClearly() throws {
        let result = try run(Paths.medtag, ["annotate", "samples", "--out", "/tmp/x", "--formats", "pdf"])
        #expect(result.status != 0)
        #expect(result.err.contains("unknown format 'pdf'"))
    }

    @Test func tagCoNLLRunsDocumentStepsOnlyWhenAskedOverEachDocument() throws {
        let dir = try temporaryDirectory("tag-conll-documents")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sentences = [
            "We report two cases of toxic epidermal necrolysis ( TEN ) .", "TEN resolved after 3 days .", "TEN resolved after 3 days .",
        ].map { $0.split(separator: " ").map { "\($0)\tO\n" }.joined() }
        let plain = dir.appendingPathComponent("plain.tsv")
        let marked = dir.appendingPathComponent("marked.tsv")
        try Data(sentences.joined(separator: "\n").utf8).write(to: plain)
        try Data(("-DOCSTART-\td1\n\n" + sentences[0] + "\n" + sentences[1] + "\n-DOCSTART-\td2\n\n" + sentences[2]).utf8).write(to: marked)
        /// The tags of each sentence written by `tag-conll` with these options.
        func tags(_ input: URL, _ options: [String]) throws -> [[String]] {
            let out = dir.appendingPathComponent("out.tsv")
            let result = try run(Paths.medtag, ["tag-conll", "--model", "en-biomed-bilstm-crf", input.path, "--out", out.path] + options)
            #expect(result.status == 0, "\(options): \(result.err)")
            return try CoNLL.parse(String(contentsOf: out, encoding: .utf8)).flatMap(\.sentences).map { $0.map(\.tag) }
        }
        let tagger = try tags(plain, [])
        #expect(tagger[0][5...7] == ["B-Disease", "I-Disease", "I-Disease"] && tagger[0][9] == "B-Disease", "\(tagger[0])")
        #expect(tagger[1][0] == "O" && tagger[2][0] == "O", "the tagger alone leaves the later short forms untagged")
        #expect(try tags(plain, ["--postprocess", "none", "--document-sentences", "1"]) == tagger)
        #expect(try tags(marked, []) == tagger, "no document steps unless asked for")

        // The definition reaches the next sentence of its document only.
        var expected = tagger
        expected[1][0] = "B-Disease"
        #expect(try tags(marked, ["--postprocess", "abbreviations"]) == expected)
        #expect(try tags(plain, ["--postprocess", "abbreviations", "--document-sentences", "2"]) == expected)
        #expect(try tags(plain, ["--postprocess", "abbreviations", "--document-sentences", "1"]) == tagger)

        for (options, message) in [
            (["--postprocess", "abbreviations"], "has no -DOCSTART- lines"), (["--postprocess", "magic", "--document-sentences", "2"], "unknown document step 'magic'"),
            (["--document-sentences", "0"], "must be at least 1"),
        ] {
            let result = try run(Paths.medtag, ["tag-conll", "--model", "en-biomed-bilstm-crf", plain.path, "--out", dir.appendingPathComponent("bad.tsv").path] + options)
            #expect(result.status != 0 && result.err.contains(message), "\(options): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.tsv").path))
        }
    }

    @Test func evaluateRunScoresWithTheDocumentStepsAskedFor() throws {
        let gold = try temporaryDirectory("evaluate-steps")
        defer { try? FileManager.default.removeItem(at: gold) }
        let text = "We report two cases of toxic epidermal necrolysis (TEN).\nTEN resolved after 3 days.\n"
        try Data(text.utf8).write(to: gold.appendingPathComponent("t.txt"))
        // The tagger finds the long form and its definition; the abbreviation step, the later short form.
        try Data("T1\tDisease 23 49\ttoxic epidermal necrolysis\nT2\tDisease 51 54\tTEN\nT3\tDisease 57 60\tTEN\n".utf8)
            .write(to: gold.appendingPathComponent("t.ann"))
        func truePositives(_ options: [String]) throws -> Int? {
            let result = try run(
                Paths.medtag, ["evaluate", "run", "--gold", gold.path, "--model", "en-biomed-bilstm-crf", "--quiet", "--format", "json"] + options)
            #expect(result.status == 0, "\(options): \(result.err)")
            let scores = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
            return (scores?["micro"] as? [String: Any])?["tp"] as? Int
        }
        #expect(try truePositives([]) == 3, "the model's steps by default")
        #expect(try truePositives(["--postprocess", "model"]) == 3)
        #expect(try truePositives(["--postprocess", "abbreviations"]) == 3)
        #expect(try truePositives(["--postprocess", "none"]) == 2)
        let bad = try run(Paths.medtag, ["evaluate", "run", "--gold", gold.path, "--model", "en-biomed-bilstm-crf", "--postprocess", "magic"])
        #expect(bad.status != 0 && bad.err.contains("unknown document step 'magic'"), "\(bad.err)")
    }
}

/// `medtag evaluate` on files, against counts worked out by hand.
struct EvaluateCommandTests {
    @Test func reportsMissingDocumentsLoudlyAndScoresThemAsMisses() throws {
        let dir = try temporaryDirectory("evaluate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gold = dir.appendingPathComponent("gold")
        let pred = dir.appendingPathComponent("pred")
        try FileManager.default.createDirectory(at: gold, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: pred, withIntermediateDirectories: true)
        try Data("T1\tX 0 5\talpha\n#1\tAnnotatorNotes T1\t1\nT2\tY 10 15\tbravo\n#2\tAnnotatorNotes T2\t<null>\n".utf8).write(to: gold.appendingPathComponent("d1.ann"))
        try Data("T1\tX 0 3\tdel\n#1\tAnnotatorNotes T1\t3\n".utf8).write(to: gold.appendingPathComponent("d2.ann"))
        try Data("T1\tX 0 5\talpha\n#1\tAnnotatorNotes T1\t1\nT2\tX 10 15\tbravo\n#2\tAnnotatorNotes T2\t<null>\n".utf8).write(to: pred.appendingPathComponent("d1.ann"))

        let strict = try run(Paths.medtag, ["evaluate", "ner", gold.path, pred.path, "--format", "csv"])
        #expect(strict.status == 0)
        #expect(strict.err.contains("1 gold document(s) have no prediction file"))
        #expect(strict.err.contains("d2"))
        // tp 1 (alpha); fp 1 (bravo as X); fn 2 (bravo as Y, del).
        #expect(strict.out.contains("micro,ALL,1,1,2,0.5000,0.3333,0.4000"))
        let skipped = try run(Paths.medtag, ["evaluate", "ner", gold.path, pred.path, "--format", "csv", "--skip-missing"])
        #expect(skipped.out.contains("micro,ALL,1,1,1,0.5000,0.5000,0.5000"))
        let overlap = try run(Paths.medtag, ["evaluate", "ner", gold.path, pred.path, "--format", "csv", "--match", "overlap"])
        #expect(overlap.out.contains("micro,ALL,1,1,2,"))
        // Codes: d1 gold {1, <null>} = predicted; d2 gold {3} missing.
        let indexing = try run(Paths.medtag, ["evaluate", "indexing", gold.path, pred.path, "--format", "json"])
        #expect(indexing.out.contains("\"fn\" : 1"))
        #expect(indexing.out.contains("\"tp\" : 2"))
        #expect(indexing.out.contains("\"d2\""))
    }

    /// A prediction with no code is a prediction: an empty `.ann` or `.tsv` file in a folder, and a
    /// document a table does not name (a table has a row per code), are scored as predicting nothing,
    /// without the warning about missing files.
    @Test func anEmptyPredictionIsNoMissingFile() throws {
        let dir = try temporaryDirectory("evaluate-empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gold = dir.appendingPathComponent("gold")
        try FileManager.default.createDirectory(at: gold, withIntermediateDirectories: true)
        try Data("T1\tX 0 5\talpha\n#1\tAnnotatorNotes T1\t1\n".utf8).write(to: gold.appendingPathComponent("d1.ann"))
        try Data("T1\tX 0 3\tdel\n#1\tAnnotatorNotes T1\t3\n".utf8).write(to: gold.appendingPathComponent("d2.ann"))
        try Data().write(to: gold.appendingPathComponent("d3.ann"))
        let annFolder = dir.appendingPathComponent("ann")
        let tsvFolder = dir.appendingPathComponent("tsv")
        for folder in [annFolder, tsvFolder] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try Data("T1\tX 0 5\talpha\n#1\tAnnotatorNotes T1\t1\n".utf8).write(to: annFolder.appendingPathComponent("d1.ann"))
        try Data("d1\t1\n".utf8).write(to: tsvFolder.appendingPathComponent("d1.tsv"))
        for name in ["d2", "d3"] {
            try Data().write(to: annFolder.appendingPathComponent("\(name).ann"))
            try Data().write(to: tsvFolder.appendingPathComponent("\(name).tsv"))
        }
        let table = dir.appendingPathComponent("medtag-all.tsv")
        try Data("d1\t1\n".utf8).write(to: table)
        for pred in [annFolder, tsvFolder, table] {
            let result = try run(Paths.medtag, ["evaluate", "indexing", gold.path, pred.path, "--format", "csv"])
            #expect(result.status == 0, "\(pred.lastPathComponent): \(result.err)")
            #expect(!result.err.contains("no prediction file"), "\(pred.lastPathComponent): \(result.err)")
            // tp 1 (d1); fn 1 (d2's code 3, predicted nothing).
            #expect(result.out.contains("micro,codes,1,0,1,1.0000,0.5000,0.6667"), "\(pred.lastPathComponent): \(result.out)")
            let skipped = try run(Paths.medtag, ["evaluate", "indexing", gold.path, pred.path, "--format", "csv", "--skip-missing"])
            #expect(skipped.out.contains("micro,codes,1,0,1,"), "nothing to skip: \(pred.lastPathComponent): \(skipped.out)")
        }
    }
}
