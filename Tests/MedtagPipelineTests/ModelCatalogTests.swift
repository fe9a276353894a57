import Foundation
import MedtagModel
import MedtagTestSupport
import Testing

/// Which model and lexicon each language gets: chosen > environment variable > found under `Models`.
/// The environments are plain dictionaries; nothing here sets a variable of the test process.
@Suite("model catalog")
struct ModelCatalogTests {
    /// A `Models` folder with manifests only (enough to be found and to give a language).
    struct Fixture {
        let root: URL

        init(models: [(name: String, language: String)], lexicons: [String] = []) throws {
            root = try temporaryDirectory("catalog").appendingPathComponent("Models")
            for model in models { try Self.model(model.name, language: model.language, in: root) }
            for lexicon in lexicons { try Self.lexicon(lexicon, in: root) }
        }

        @discardableResult
        static func model(_ name: String, language: String, in folder: URL) throws -> URL {
            let dir = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let manifest = """
                {"name": "\(name)", "kind": "gazetteer", "language": "\(language)", "labels": ["X"], "tagScheme": "bio", "tokenizerVersion": "1"}
                """
            try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
            return dir
        }

        @discardableResult
        static func lexicon(_ name: String, in folder: URL) throws -> URL {
            let dir = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: dir.appendingPathComponent("lexicon.json"))
            return dir
        }

        var environment: [String: String] { ["MEDTAG_MODELS": root.path] }
        func url(_ name: String) -> URL { root.appendingPathComponent(name) }
        func remove() { removeTemporaryDirectory(root.deletingLastPathComponent()) }
    }

    static let shipped: [(name: String, language: String)] = [
        ("es-pharmaconer-bilstm-crf", "es"), ("es-pharmaconer-gazetteer", "es"), ("en-biomed-bilstm-crf", "en"),
    ]

    /// A folder and its origin as text, so that URLs compare by path (with or without a final `/`).
    static func at(_ location: ModelCatalog.Location?) -> String {
        location.map { "\($0.url.path) (\($0.origin))" } ?? "none"
    }

    static func at(_ model: Result<ModelCatalog.Location, ModelError>) -> String {
        switch model {
        case .success(let location): at(location)
        case .failure(let error): "\(error)"
        }
    }

    static func at(_ url: URL, _ origin: ModelCatalog.Origin) -> String { "\(url.path) (\(origin))" }

    @Test("with nothing named, each language takes its best model installed and the lexicon folder beside it")
    func defaults() throws {
        let models = try Fixture(models: Self.shipped, lexicons: ["lexicon"])
        defer { models.remove() }
        let catalog = try ModelCatalog.resolve(environment: models.environment)
        #expect(catalog.modelsRoot?.path == models.root.path)
        #expect(catalog.chosen == nil)
        #expect(try catalog.givenModel() == nil)
        let spanish = catalog.entry(for: .spanish)
        #expect(Self.at(spanish.model) == Self.at(models.url("es-pharmaconer-bilstm-crf"), .found))
        #expect(Self.at(spanish.lexicon) == Self.at(models.url("lexicon"), .found))
        let english = catalog.entry(for: .english)
        #expect(Self.at(english.model) == Self.at(models.url("en-biomed-bilstm-crf"), .found))
        #expect(english.lexicon == nil, "the Spanish lexicon is never the English one")
    }

    @Test("the preferred models are tried best first; a language with none installed says which it looked for")
    func preferenceOrder() throws {
        let models = try Fixture(models: [("es-pharmaconer-gazetteer", "es")], lexicons: ["lexicon-en"])
        defer { models.remove() }
        let catalog = try ModelCatalog.resolve(environment: models.environment)
        #expect(try catalog.entry(for: .spanish).modelDirectory.path == models.url("es-pharmaconer-gazetteer").path)
        let english = catalog.entry(for: .english)
        #expect(
            english.model
                == .failure(ModelError(path: models.root.path, reason: "none of en-biomed-bilstm-crf is installed here")))
        #expect(english.lexicon == nil, "no model, nothing to stand beside")
        #expect(
            catalog.entry(for: Language(code: "fr")).model
                == .failure(ModelError(path: "Models", reason: "medtag has no model for language 'fr'")))
    }

    @Test("an environment variable wins over the default; an empty one counts as unset")
    func environmentOverDefault() throws {
        let models = try Fixture(models: Self.shipped, lexicons: ["lexicon", "lexicon-en"])
        defer { models.remove() }
        var environment = models.environment
        environment["MEDTAG_MODEL_EN"] = "/srv/english-model"
        environment["MEDTAG_LEXICON_EN"] = "/srv/english-lexicon"
        environment["MEDTAG_LEXICON"] = ""
        let catalog = try ModelCatalog.resolve(environment: environment)
        let english = catalog.entry(for: .english)
        #expect(Self.at(english.model) == Self.at(URL(fileURLWithPath: "/srv/english-model"), .environment))
        #expect(Self.at(english.lexicon) == Self.at(URL(fileURLWithPath: "/srv/english-lexicon"), .environment))
        #expect(Self.at(catalog.entry(for: .spanish).lexicon) == Self.at(models.url("lexicon"), .found))
    }

    @Test("a choice wins over the environment; `lexicon =` goes with Spanish when no model is chosen")
    func choiceOverEnvironment() throws {
        let models = try Fixture(models: Self.shipped)
        defer { models.remove() }
        let other = try Fixture.model("other-en", language: "en", in: models.root.deletingLastPathComponent())
        var environment = models.environment
        environment["MEDTAG_MODEL_EN"] = "/srv/english-model"
        environment["MEDTAG_LEXICON_EN"] = "/srv/english-lexicon"
        environment["MEDTAG_LEXICON"] = "/srv/spanish-lexicon"
        let choices = ModelCatalog.Choices(
            lexicon: URL(fileURLWithPath: "/etc/lexicon"), models: [.english: other.path],
            lexicons: [.english: URL(fileURLWithPath: "/etc/lexicon-en")])
        let catalog = try ModelCatalog.resolve(choices, environment: environment)
        let english = catalog.entry(for: .english)
        #expect(Self.at(english.model) == Self.at(other, .chosen))
        #expect(Self.at(english.lexicon) == Self.at(URL(fileURLWithPath: "/etc/lexicon-en"), .chosen))
        #expect(Self.at(catalog.entry(for: .spanish).lexicon) == Self.at(URL(fileURLWithPath: "/etc/lexicon"), .chosen))
    }

    @Test("a chosen model, by name or folder, serves its manifest's language and takes `lexicon =`")
    func chosenModel() throws {
        let models = try Fixture(models: Self.shipped, lexicons: ["lexicon"])
        defer { models.remove() }
        var environment = models.environment
        environment["MEDTAG_MODEL"] = models.url("es-pharmaconer-gazetteer").path
        let lexicon = URL(fileURLWithPath: "/etc/lexicon")
        let byName = try ModelCatalog.resolve(.init(model: "en-biomed-bilstm-crf", lexicon: lexicon), environment: environment)
        let chosen = try #require(byName.chosen)
        #expect(chosen.language == .english)
        #expect(Self.at(chosen.model) == Self.at(models.url("en-biomed-bilstm-crf"), .chosen))
        #expect(Self.at(chosen.lexicon) == Self.at(lexicon, .chosen))
        #expect(try byName.givenModel() == chosen, "a chosen model wins over MEDTAG_MODEL")
        #expect(Self.at(byName.entry(for: .spanish).lexicon) == Self.at(models.url("lexicon"), .found), "`lexicon =` went with English")
        let byFolder = try ModelCatalog.resolve(.init(model: models.url("es-pharmaconer-gazetteer").path), environment: [:])
        #expect(byFolder.chosen?.language == .spanish)
    }

    @Test("a chosen name that is neither a folder nor installed is an error listing what is installed")
    func unknownChosenModel() throws {
        let models = try Fixture(models: Self.shipped)
        defer { models.remove() }
        #expect(throws: ModelError(
            path: "es-no-such-model",
            reason: "no such model folder, nor a model of that name in \(models.root.path); installed: "
                + "en-biomed-bilstm-crf, es-pharmaconer-bilstm-crf, es-pharmaconer-gazetteer")) {
            try ModelCatalog.resolve(.init(models: [.english: "es-no-such-model"]), environment: models.environment)
        }
    }

    @Test("MEDTAG_MODEL names the given model, of its manifest's language; unreadable, it fails only where it is used")
    func environmentModel() throws {
        let models = try Fixture(models: Self.shipped, lexicons: ["lexicon"])
        defer { models.remove() }
        var environment = models.environment
        environment["MEDTAG_MODEL"] = models.url("en-biomed-bilstm-crf").path
        let catalog = try ModelCatalog.resolve(environment: environment)
        let given = try #require(try catalog.givenModel())
        #expect(given.language == .english)
        #expect(Self.at(given.model) == Self.at(models.url("en-biomed-bilstm-crf"), .environment))
        let single = try catalog.singleModel()
        #expect(single.language == .english && single.lexicon == nil, "a command running one model runs it as English, without the Spanish lexicon")
        #expect(Self.at(single.model) == Self.at(models.url("en-biomed-bilstm-crf"), .environment))
        #expect(try catalog.singleModel(for: .english).modelDirectory.path == models.url("en-biomed-bilstm-crf").path)

        environment["MEDTAG_MODEL"] = "/nonexistent/model"
        let broken = try ModelCatalog.resolve(environment: environment)
        #expect(throws: ModelError.self) { try broken.givenModel() }
        #expect(try broken.entry(for: .english).modelDirectory.path == models.url("en-biomed-bilstm-crf").path)
    }

    @Test("without MEDTAG_MODELS the Models folder is found beside an installed program, else above it or the working folder")
    func modelsFolderSearch() throws {
        let top = try temporaryDirectory("catalog-search")
        defer { removeTemporaryDirectory(top) }
        let installed = top.appendingPathComponent("prefix/share/medtag/Models")
        try Fixture.model("es-pharmaconer-gazetteer", language: "es", in: installed)
        let program = top.appendingPathComponent("prefix/bin/medtag")
        let nowhere = top.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: nowhere, withIntermediateDirectories: true)
        #expect(try ModelCatalog.resolve(environment: [:], executable: program, workingDirectory: nowhere).modelsRoot?.path == installed.path)

        let checkout = top.appendingPathComponent("checkout")
        try Fixture.model("en-biomed-bilstm-crf", language: "en", in: checkout.appendingPathComponent("Models"))
        let deep = checkout.appendingPathComponent("Sources/medtag")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let fromHere = try ModelCatalog.resolve(environment: [:], executable: nowhere.appendingPathComponent("medtag"), workingDirectory: deep)
        #expect(fromHere.modelsRoot?.path == checkout.appendingPathComponent("Models").path)

        let systemFolder = ["/usr/share/medtag/Models", "/usr/local/share/medtag/Models"].contains {
            FileManager.default.fileExists(atPath: $0)
        }
        if !systemFolder {
            let none = try ModelCatalog.resolve(environment: [:], executable: nowhere.appendingPathComponent("medtag"), workingDirectory: nowhere)
            #expect(none.modelsRoot == nil)
            #expect(
                none.entry(for: .spanish).model
                    == .failure(
                        ModelError(
                            path: "Models",
                            reason: "no Models folder found near the executable or here; pass --model DIR or set MEDTAG_MODELS")))
        }
    }

    @Test("each language's names: variables, lexicon folder, configuration keys")
    func languageNames() {
        #expect(Language.supported.map(\.code) == ["es", "en"])
        #expect(Language(code: "en") == .english && Language(code: "en").name == "English")
        #expect(Language.spanish.modelVariable == "MEDTAG_MODEL" && Language.english.modelVariable == "MEDTAG_MODEL_EN")
        #expect(Language.spanish.lexiconVariable == "MEDTAG_LEXICON" && Language.english.lexiconVariable == "MEDTAG_LEXICON_EN")
        #expect(Language.spanish.lexiconFolder == "lexicon" && Language.english.lexiconFolder == "lexicon-en")
        #expect(Language.english.modelKey == "model_en" && Language.english.lexiconKey == "lexicon_en")
        #expect(Language(code: "fr").name == "'fr'" && Language(code: "fr").preferredModels.isEmpty)
    }
}
