import Foundation
import MedtagFormats
import MedtagModel
import MedtagPipeline
import MedtagText
import Testing
import MedtagTestSupport

/// The shipped models of both languages.
enum RoutingModels {
    static let spanish = Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-gazetteer")
    static let english = Paths.packageRoot.appendingPathComponent("Models/en-biomed-bilstm-crf")
    static let spanishLexicon = Paths.packageRoot.appendingPathComponent("Models/lexicon")

    /// Both pipelines, loaded once (the English one with no lexicon, as shipped).
    static let pipelines = SharedFixture("the shipped models") {
        [
            "es": try Pipeline.load(modelDirectory: spanish, lexicon: spanishLexicon),
            "en": try Pipeline.load(modelDirectory: english, lexicon: nil),
        ]
    }
}

let englishNote = """
    A 62-year-old man was treated with cisplatin and doxorubicin for lung cancer. He developed acute renal \
    failure after the third cycle, and serum levels of interleukin-6 were elevated.
    """
let spanishNote = """
    Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas. La \
    inmunohistoquímica fue positiva para S-100 y vimentina.
    """

@Suite("language routing")
struct LanguageRoutingTests {
    @Test func settingParsesTheThreeValues() {
        #expect(LanguageSetting("es") == .fixed("es"))
        #expect(LanguageSetting("EN") == .fixed("en"))
        #expect(LanguageSetting("auto") == .auto)
        #expect(LanguageSetting("fr") == nil)
        #expect(LanguageSetting("") == nil)
        #expect(LanguageSetting.auto.description == "auto")
    }

    @Test func autoSendsEachTextToTheModelOfItsLanguage() throws {
        let router = LanguageRouter(setting: .auto, pipelines: try RoutingModels.pipelines())
        let english = try router.annotate(id: "note", text: englishNote)
        #expect(english.language == "en")
        #expect(english.languageSource == .detected)
        #expect(english.model == "en-biomed-bilstm-crf")
        #expect(english.document.language == "en")
        #expect(english.conllScheme.rawValue == "bioes")
        // English tokenizer rules: "62-year-old" keeps its hyphens as tokens, "interleukin-6" too.
        #expect(english.document.tokens.map(\.text).contains("interleukin"))
        let spanish = try router.annotate(id: "nota", text: spanishNote)
        #expect(spanish.language == "es")
        #expect(spanish.languageSource == .detected)
        #expect(spanish.model == "es-pharmaconer-gazetteer")
        #expect(spanish.document.entities.contains { $0.text == "enalapril" })
    }

    @Test func theFolderWinsOverTheSetting() throws {
        let router = LanguageRouter(setting: .fixed("es"), pipelines: try RoutingModels.pipelines())
        let fromFolder = try router.annotate(id: "note", text: englishNote, folder: "en")
        #expect(fromFolder.language == "en")
        #expect(fromFolder.languageSource == .folder)
        #expect(fromFolder.model == "en-biomed-bilstm-crf")
        // Without a language folder the setting decides, whatever the text looks like.
        for folder in [nil, "ward3"] {
            let configured = try router.annotate(id: "note", text: englishNote, folder: folder)
            #expect(configured.language == "es")
            #expect(configured.languageSource == .configuration)
            #expect(configured.model == "es-pharmaconer-gazetteer")
        }
    }

    @Test func aLanguageWithoutAModelIsAnErrorUnlessItWasOnlyDetected() throws {
        let spanishOnly = ["es": try RoutingModels.pipelines()["es"]!]
        let fixed = LanguageRouter(setting: .fixed("en"), pipelines: spanishOnly, unavailable: ["en": "not installed"])
        #expect(throws: RoutingError.self) { try fixed.annotate(id: "note", text: englishNote) }
        let auto = LanguageRouter(setting: .auto, pipelines: spanishOnly, unavailable: ["en": "not installed"])
        #expect(throws: RoutingError.self) { try auto.annotate(id: "note", text: spanishNote, folder: "en") }
        let fellBack = try auto.annotate(id: "note", text: englishNote)
        #expect(fellBack.model == "es-pharmaconer-gazetteer")
        #expect(fellBack.language == "es")
        #expect(fellBack.notes.first?.contains("identified as 'en', which has no model installed") == true, "\(fellBack.notes)")
    }

    @Test func loadFindsBothShippedModelsAndKeepsAGivenModelForItsLanguage() throws {
        let catalog = try ModelCatalog.resolve(.init(model: RoutingModels.spanish.path), environment: [:])
        let router = try LanguageRouter.load(catalog: catalog)
        #expect(router.setting == .fixed("es"), "a model given without a language keeps every document on it")
        #expect(router.modelNames == ["es": "es-pharmaconer-gazetteer", "en": "en-biomed-bilstm-crf"])
        let auto = try LanguageRouter.load(setting: .auto, catalog: catalog)
        #expect(try auto.annotate(id: "n", text: englishNote).model == "en-biomed-bilstm-crf")
    }

    @Test func aLexiconNamedByItsVariableThatCannotBeLoadedStopsTheLoadInsteadOfSendingTheLanguageElsewhere() throws {
        let environments = [
            ["MEDTAG_LEXICON": "/nonexistent/lexicon"],
            ["MEDTAG_LEXICON_EN": "/nonexistent/lexicon", "MEDTAG_MODEL": RoutingModels.spanish.path],
        ]
        for environment in environments {
            let catalog = try ModelCatalog.resolve(environment: environment)
            #expect(throws: (any Error).self, "\(environment)") {
                do { _ = try LanguageRouter.load(setting: .auto, catalog: catalog) } catch {
                    #expect("\(error)".contains("/nonexistent/lexicon"), "\(error)")
                    throw error
                }
            }
        }
    }

    @Test func englishEntitiesGetNoCodeWithoutAnEnglishLexiconAndTheResultSaysSo() throws {
        let english = try RoutingModels.pipelines()["en"]!
        #expect(english.lexiconDirectory == nil, "the Spanish lexicon is never used for English")
        let routed = try english.annotateRouted(id: "note", text: englishNote)
        #expect(routed.document.entities.allSatisfy { $0.code == nil })
        #expect(routed.notes.contains { $0.hasPrefix("no English SNOMED-CT lexicon installed: entities have no code") }, "\(routed.notes)")
        let spanish = try RoutingModels.pipelines()["es"]!.annotateRouted(id: "nota", text: spanishNote)
        #expect(spanish.notes.isEmpty)
        #expect(spanish.document.entities.contains { $0.code != nil })
    }
}

/// The International-edition-shaped test release (invented concepts and terms, `Tests/Fixtures`).
let internationalRelease = Paths.packageRoot.appendingPathComponent(
    "Tests/Fixtures/rf2-international/SnomedCT_FixtureRF2_PRODUCTION_20240101T120000Z")

/// An English note naming the test release's invented substances.
let inventedEnglishNote = """
    A 58-year-old woman with glimmer fever was started on zentorafil hydrochloride 20 mg daily and oral \
    cloxaprine. Dravomycin was stopped after two doses because of nausea. Serum levels of velactin kinase \
    were elevated. She had a history of retiredone use.
    """

@Suite("English normalization and annotate --language")
struct EnglishCommandLineTests {
    @Test func anImportedInternationalReleaseGivesEnglishEntitiesTheirCodes() throws {
        let dir = try temporaryDirectory("english-lexicon")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lexicon = dir.appendingPathComponent("lexicon-en")
        let imported = try run(Paths.medtag, ["lexicon", "import-rf2", internationalRelease.path, "--language", "en", "--out", lexicon.path])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.out.contains("RF2: 6 concepts"), "\(imported.out)")
        let note = dir.appendingPathComponent("note.txt")
        try inventedEnglishNote.write(to: note, atomically: true, encoding: .utf8)

        // Without an English lexicon: entities, no codes, and the run says why.
        let bare = try AnnotateHarness.run([note], out: dir.appendingPathComponent("bare"), model: nil, language: .fixed("en"))
        #expect(bare.status == 0, "\(bare.warningText)")
        #expect(bare.summary.contains("en-biomed-bilstm-crf (en, 1 document)"), "\(bare.summary)")
        #expect(bare.warningText.contains("no English SNOMED-CT lexicon installed"), "\(bare.warningText)")
        let bareAnn = try String(contentsOf: dir.appendingPathComponent("bare/note.ann"), encoding: .utf8)
        #expect(bareAnn.contains("Chemical"), "\(bareAnn)")
        #expect(!bareAnn.contains("AnnotatorNotes"))

        // With one: the same cascade gives the release's codes, in the BRAT notes and the CSV table.
        let coded = try AnnotateHarness.run(
            [note], out: dir.appendingPathComponent("coded"), model: nil, language: .fixed("en"), formats: [.brat, .csv],
            environment: ["MEDTAG_LEXICON_EN": lexicon.path])
        #expect(coded.status == 0, "\(coded.warningText)")
        #expect(!coded.warningText.contains("no English SNOMED-CT lexicon"))
        let ann = try String(contentsOf: dir.appendingPathComponent("coded/note.ann"), encoding: .utf8)
        let entities = try BRAT.parse(ann)
        func code(_ text: String) -> String? { entities.first { $0.text.lowercased() == text }?.code }
        #expect(code("zentorafil hydrochloride") == "9100005", "\(ann)")
        #expect(code("cloxaprine") == "9100002", "\(ann)")
        #expect(code("dravomycin") == "9100006", "\(ann)")
        #expect(code("velactin kinase") == "9100007", "\(ann)")
        #expect(code("retiredone") == "<null>", "an inactive concept gives no code: \(ann)")
        let scalars = Array(inventedEnglishNote.unicodeScalars)
        for entity in entities {
            #expect(String(String.UnicodeScalarView(scalars[entity.start..<entity.end])) == entity.text)
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("coded/medtag-all.csv"), encoding: .utf8)
        let row = try #require(csv.split(separator: "\n").first { $0.contains(",cloxaprine,") }, "\(csv)")
        #expect(row.contains(",9100002,Cloxaprine,exact,"), "the US English preferred term: \(row)")
    }

    @Test func annotateRoutesEachFileUnderAuto() throws {
        let dir = try temporaryDirectory("annotate-auto")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try englishNote.write(to: inputs.appendingPathComponent("note.txt"), atomically: true, encoding: .utf8)
        try spanishNote.write(to: inputs.appendingPathComponent("nota.txt"), atomically: true, encoding: .utf8)
        let result = try AnnotateHarness.run(
            [inputs], out: dir.appendingPathComponent("out"), model: nil, environment: ["MEDTAG_MODEL": RoutingModels.spanish.path])
        #expect(result.status == 0, "\(result.warningText)")
        // MEDTAG_MODEL names a model: without --language every file stays on it.
        #expect(result.summary.contains("es-pharmaconer-gazetteer (es, 2 documents)"), "\(result.summary)")
        let auto = try AnnotateHarness.run(
            [inputs], out: dir.appendingPathComponent("auto"), model: nil, language: .auto,
            environment: ["MEDTAG_MODEL": RoutingModels.spanish.path])
        #expect(auto.status == 0, "\(auto.warningText)")
        #expect(auto.summary.contains("en-biomed-bilstm-crf (en, 1 document)"), "\(auto.summary)")
        #expect(auto.summary.contains("es-pharmaconer-gazetteer (es, 1 document)"), "\(auto.summary)")
        let conll = try String(contentsOf: dir.appendingPathComponent("auto/note.conll"), encoding: .utf8)
        #expect(conll.contains("interleukin\t"))
    }
}
