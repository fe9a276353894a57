import Foundation
import MedtagNormalize
import MedtagPipeline
import MedtagText
import Testing

/// The shipped models of both languages.
enum RoutingModels {
    static let spanish = Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-gazetteer")
    static let english = Paths.packageRoot.appendingPathComponent("Models/en-biomed-bilstm-crf")
    static let spanishLexicon = Paths.packageRoot.appendingPathComponent("Models/lexicon")

    /// Both pipelines, loaded once (the English one with no lexicon, as shipped).
    static let pipelines: [String: Pipeline] = {
        do {
            return [
                "es": try Pipeline.load(modelDirectory: spanish, lexicon: spanishLexicon),
                "en": try Pipeline.load(modelDirectory: english),
            ]
        } catch { fatalError("cannot load the shipped models: \(error)") }
    }()
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
        let router = LanguageRouter(setting: .auto, pipelines: RoutingModels.pipelines)
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
        let router = LanguageRouter(setting: .fixed("es"), pipelines: RoutingModels.pipelines)
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
        let spanishOnly = ["es": RoutingModels.pipelines["es"]!]
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
        let router = try LanguageRouter.load(model: RoutingModels.spanish)
        #expect(router.setting == .fixed("es"), "a model given without a language keeps every document on it")
        #expect(router.modelNames == ["es": "es-pharmaconer-gazetteer", "en": "en-biomed-bilstm-crf"])
        let auto = try LanguageRouter.load(setting: .auto, model: RoutingModels.spanish)
        #expect(try auto.annotate(id: "n", text: englishNote).model == "en-biomed-bilstm-crf")
    }

    @Test func englishEntitiesGetNoCodeWithoutAnEnglishLexiconAndTheResultSaysSo() throws {
        let english = RoutingModels.pipelines["en"]!
        #expect(english.lexiconDirectory == nil, "the Spanish lexicon is never used for English")
        let routed = try english.annotateRouted(id: "note", text: englishNote)
        #expect(routed.document.entities.allSatisfy { $0.code == nil })
        #expect(routed.notes.contains { $0.hasPrefix("no English SNOMED-CT lexicon installed: entities have no code") }, "\(routed.notes)")
        let spanish = try RoutingModels.pipelines["es"]!.annotateRouted(id: "nota", text: spanishNote)
        #expect(spanish.notes.isEmpty)
        #expect(spanish.document.entities.contains { $0.code != nil })
    }

    @Test func theDefaultLexiconIsPerLanguage() {
        let root = Paths.packageRoot.appendingPathComponent("Models")
        #expect(LexiconLocator.folderName(language: "en") == "lexicon-en")
        #expect(LexiconLocator.folderName(language: "es") == "lexicon")
        if ProcessInfo.processInfo.environment["MEDTAG_LEXICON_EN"] == nil {
            #expect(LexiconLocator.defaultDirectory(modelsRoot: root, language: "en") == nil)
        }
        if ProcessInfo.processInfo.environment["MEDTAG_LEXICON"] == nil {
            #expect(LexiconLocator.defaultDirectory(modelsRoot: root, language: "es")?.lastPathComponent == "lexicon")
        }
    }
}
