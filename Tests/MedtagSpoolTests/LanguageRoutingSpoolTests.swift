import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// The shipped English model, beside the Spanish test model.
let englishTestModel = Paths.packageRoot.appendingPathComponent("Models/en-biomed-bilstm-crf")

let englishSpoolNote = """
    A 62-year-old man was treated with cisplatin and doxorubicin for lung cancer. He developed acute renal \
    failure after the third cycle, and serum levels of interleukin-6 were elevated.
    """

/// `medtag-report.json` of an input, decoded.
func routingReport(_ spool: TestSpool, _ input: String) throws -> [String: Any] {
    let data = try Data(contentsOf: spool.outbox.appendingPathComponent("\(input)/medtag-report.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

func firstDocument(_ report: [String: Any]) throws -> [String: Any] {
    let documents = try #require(report["documents"] as? [[String: Any]])
    return try #require(documents.first)
}

@Suite("language routing in the daemon")
struct LanguageRoutingSpoolTests {
    @Test("inbox/en/ and inbox/es/ choose the model; the rest follow `language`; report and log say which")
    func foldersAndConfiguration() throws {
        let spool = try TestSpool(config: "language = es\nmodel_en = \(englishTestModel.path)")
        let daemon = try MedtagProcess.serve(spool)
        try spool.drop("en/note.txt", text: englishSpoolNote)
        try spool.drop("es/nota.txt", text: spanishNote)
        try spool.drop("other.txt", text: englishSpoolNote)
        try waitUntil("three inputs are done", timeout: 60) { spool.finished().count == 3 }
        daemon.signal(SIGTERM)
        try daemon.waitForExit()
        #expect(spool.files(in: spool.failed).isEmpty)

        let english = try firstDocument(try routingReport(spool, "en/note.txt"))
        #expect(english["language"] as? String == "en")
        #expect(english["languageSource"] as? String == "folder")
        #expect(english["model"] as? String == "en-biomed-bilstm-crf")
        let notes = english["notes"] as? [String] ?? []
        #expect(notes.contains { $0.hasPrefix("no English SNOMED-CT lexicon installed") }, "\(notes)")
        let conll = try String(contentsOf: spool.outbox.appendingPathComponent("en/note.txt/note.conll"), encoding: .utf8)
        #expect(conll.contains("interleukin\t"), "English tokens in the CoNLL output")

        let spanish = try firstDocument(try routingReport(spool, "es/nota.txt"))
        #expect(spanish["language"] as? String == "es")
        #expect(spanish["languageSource"] as? String == "folder")
        #expect(spanish["model"] as? String == "es-pharmaconer-gazetteer")
        #expect(spanish["notes"] == nil, "the Spanish lexicon gives codes")
        let ann = try String(contentsOf: spool.outbox.appendingPathComponent("es/nota.txt/nota.ann"), encoding: .utf8)
        #expect(ann.contains("enalapril"))

        let configured = try firstDocument(try routingReport(spool, "other.txt"))
        #expect(configured["language"] as? String == "es")
        #expect(configured["languageSource"] as? String == "configuration")

        let records = spool.logRecords()
        let byInput = Dictionary(records.compactMap { r in (r["input"] as? String).map { ($0, r) } }) { a, _ in a }
        #expect(byInput["en/note.txt"]?["language"] as? String == "en")
        #expect(byInput["en/note.txt"]?["model"] as? String == "en-biomed-bilstm-crf")
        #expect(byInput["es/nota.txt"]?["model"] as? String == "es-pharmaconer-gazetteer")
        #expect(byInput["other.txt"]?["language"] as? String == "es")
    }

    @Test("`language = auto` identifies each document's language")
    func auto() throws {
        let spool = try TestSpool(config: "language = auto\nmodel_en = \(englishTestModel.path)")
        let run = try runMedtag(
            [
                "ingest", "--config", spool.configFile.path,
                try write(spool, "note.txt", englishSpoolNote), try write(spool, "nota.txt", spanishNote),
            ], in: spool)
        #expect(run.status == 0, "\(run.output)")
        let english = try firstDocument(try routingReport(spool, "note.txt"))
        #expect(english["language"] as? String == "en")
        #expect(english["languageSource"] as? String == "detected")
        #expect(english["model"] as? String == "en-biomed-bilstm-crf")
        let spanish = try firstDocument(try routingReport(spool, "nota.txt"))
        #expect(spanish["language"] as? String == "es")
        #expect(spanish["languageSource"] as? String == "detected")
        #expect(spanish["model"] as? String == "es-pharmaconer-gazetteer")
    }

    @Test("`lexicon_en` names an imported RF2 lexicon: the daemon codes English documents with it")
    func englishLexicon() throws {
        let release = Paths.packageRoot.appendingPathComponent(
            "Tests/Fixtures/rf2-international/SnomedCT_FixtureRF2_PRODUCTION_20240101T120000Z")
        let bootstrap = try TestSpool()
        let lexicon = bootstrap.root.appendingPathComponent("data/lexicon-en")
        let imported = try runMedtag(["lexicon", "import-rf2", release.path, "--language", "en", "--out", lexicon.path], in: bootstrap)
        #expect(imported.status == 0, "\(imported.output)")

        let spool = try TestSpool(config: "language = auto\nmodel_en = \(englishTestModel.path)\nlexicon_en = \(lexicon.path)")
        let daemon = try MedtagProcess.serve(spool)
        try spool.drop("en/note.txt", text: "Dravomycin was stopped after two doses, and oral cloxaprine was started.")
        try spool.drop("note.txt", text: "The patient was treated with cloxaprine and velactin kinase levels were measured.")
        try waitUntil("two inputs are done", timeout: 60) { spool.finished().count == 2 }
        daemon.signal(SIGTERM)
        try daemon.waitForExit()
        #expect(spool.files(in: spool.failed).isEmpty)

        for input in ["en/note.txt", "note.txt"] {
            let document = try firstDocument(try routingReport(spool, input))
            #expect(document["language"] as? String == "en", "\(input)")
            #expect(document["notes"] == nil, "an English lexicon is installed: \(document)")
            let ann = try String(contentsOf: spool.outbox.appendingPathComponent("\(input)/note.ann"), encoding: .utf8)
            #expect(ann.contains("\t9100002"), "cloxaprine coded in \(input): \(ann)")
        }
        let folder = try String(contentsOf: spool.outbox.appendingPathComponent("en/note.txt/note.ann"), encoding: .utf8)
        #expect(folder.contains("\t9100006"), "Dravomycin coded: \(folder)")
    }

    @Test("a `lexicon_en` that cannot be loaded stops the run with its path instead of sending English text elsewhere")
    func missingEnglishLexicon() throws {
        let spool = try TestSpool(config: "language = auto\nmodel_en = \(englishTestModel.path)\nlexicon_en = /nonexistent/lexicon-en")
        let note = spool.root.appendingPathComponent("note.txt")
        try englishSpoolNote.write(to: note, atomically: true, encoding: .utf8)
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, note.path], in: spool)
        #expect(run.status != 0)
        #expect(run.output.contains("/nonexistent/lexicon-en/lexicon.json"), "\(run.output)")
        #expect(spool.files(in: spool.outbox).isEmpty)
    }

    @Test("an unknown `language` value is refused with the line")
    func badSetting() throws {
        let spool = try TestSpool(config: "language = fr")
        let run = try runMedtag(["status", "--config", spool.configFile.path], in: spool)
        #expect(run.status != 0)
        #expect(run.output.contains("language: expected es, en or auto, found `fr`"), "\(run.output)")
    }

    private func write(_ spool: TestSpool, _ name: String, _ text: String) throws -> String {
        let url = spool.root.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
