import Foundation
import MedtagNormalize

/// The model and the lexicon of each language, resolved once where a command starts, from its
/// options, its configuration and its environment; the code that loads them reads no environment
/// variable.
///
/// A language's model is, in order: the one chosen (`--model`, `model =`, `model_en =`), the one
/// its environment variable names (`MEDTAG_MODEL`, `MEDTAG_MODEL_EN`), else the first of its
/// ``Language/preferredModels`` installed in the `Models` folder (``modelsRoot``). Its lexicon: the
/// one chosen (`lexicon =`, `lexicon_en =`), the one its variable names (`MEDTAG_LEXICON`,
/// `MEDTAG_LEXICON_EN`), else its ``Language/lexiconFolder`` beside the model folder when that
/// holds a lexicon; none means entities get no code.
public struct ModelCatalog: Sendable, Equatable {
    /// What the command line or the configuration names; nil or absent means the default.
    public struct Choices: Sendable, Equatable {
        /// A model folder, or a model's name under the `Models` folder (`--model`, `model =`); it
        /// serves the language its manifest gives.
        public var model: String?
        /// The lexicon of `model`'s language, or of Spanish when no model is chosen (`lexicon =`).
        public var lexicon: URL?
        /// Model folders or names by language (`model_en =`).
        public var models: [Language: String]
        /// Lexicon folders by language (`lexicon_en =`); they win over `lexicon`.
        public var lexicons: [Language: URL]

        public init(model: String? = nil, lexicon: URL? = nil, models: [Language: String] = [:], lexicons: [Language: URL] = [:]) {
            self.model = model
            self.lexicon = lexicon
            self.models = models
            self.lexicons = lexicons
        }
    }

    /// Where a folder came from.
    public enum Origin: Sendable, Equatable {
        /// Named on the command line or in the configuration.
        case chosen
        /// Named by an environment variable.
        case environment
        /// Found where medtag looks when nothing names one.
        case found
    }

    /// A folder and where it came from.
    public struct Location: Sendable, Equatable {
        public var url: URL
        public var origin: Origin

        public init(_ url: URL, _ origin: Origin) {
            self.url = url
            self.origin = origin
        }
    }

    /// The model and lexicon of one language.
    public struct Entry: Sendable, Equatable {
        public var language: Language
        /// The model folder, or why none was found.
        public var model: Result<Location, ModelError>
        /// The lexicon folder; nil when there is none.
        public var lexicon: Location?

        public init(language: Language, model: Result<Location, ModelError>, lexicon: Location?) {
            self.language = language
            self.model = model
            self.lexicon = lexicon
        }

        /// The model folder; throws why none was found.
        public var modelDirectory: URL {
            get throws(ModelError) { try model.get().url }
        }
    }

    /// The `Models` folder: `$MEDTAG_MODELS`, else `../share/medtag/Models` beside the executable's
    /// folder (an installed medtag: `PREFIX/bin/medtag` finds `PREFIX/share/medtag/Models`), else the
    /// nearest `Models/` above the executable or the working directory (a checkout), else
    /// `/usr/share/medtag/Models` or `/usr/local/share/medtag/Models`; nil when there is none.
    public let modelsRoot: URL?
    /// The model chosen on the command line or in the configuration, with its manifest's language.
    public let chosen: Entry?
    /// The model `$MEDTAG_MODEL` names, as a model of its manifest's language, when no model is chosen.
    private let environmentModel: Result<Entry, ModelError>?
    /// The model and lexicon of each supported language.
    private let entries: [Language: Entry]

    /// The model and lexicon of a language (the model is an error for a language medtag has no model for).
    public func entry(for language: Language) -> Entry {
        entries[language]
            ?? Entry(
                language: language,
                model: .failure(ModelError(path: "Models", reason: "medtag has no model for language '\(language.code)'")),
                lexicon: nil)
    }

    /// The model every document goes to unless a language is set: the chosen one, else the one
    /// `$MEDTAG_MODEL` names, which serves the language of its manifest; nil when neither is given.
    public func givenModel() throws(ModelError) -> Entry? {
        if let chosen { return chosen }
        return try environmentModel?.get()
    }

    /// The model a command that runs one model uses: the chosen one, else for the primary language
    /// the one `$MEDTAG_MODEL` names (a model of its manifest's language, with that language's
    /// lexicon), else the language's own.
    public func singleModel(for language: Language = .primary) throws(ModelError) -> Entry {
        if let chosen { return chosen }
        if language == .primary, let given = try environmentModel?.get() { return given }
        return entry(for: language)
    }

    /// Resolves every language's model and lexicon.
    ///
    /// - Parameters:
    ///   - choices: what the command line and the configuration name.
    ///   - environment: the process environment, read here only.
    ///   - executable: the running program, whose folder is searched for `Models` (default: this process's).
    ///   - workingDirectory: searched for `Models` after the program's folder (default: the current one).
    /// - Throws: a chosen model that is neither a folder nor installed under `Models`, or whose
    ///   manifest cannot be read.
    public static func resolve(
        _ choices: Choices = Choices(), environment: [String: String], executable: URL? = nil, workingDirectory: URL? = nil
    ) throws(ModelError) -> ModelCatalog {
        func variable(_ name: String) -> URL? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return URL(fileURLWithPath: value)
        }
        func lexicon(_ language: Language, chosen: URL?, beside model: URL?) -> Location? {
            if let chosen { return Location(chosen, .chosen) }
            if let named = variable(language.lexiconVariable) { return Location(named, .environment) }
            guard let model else { return nil }
            let candidate = model.deletingLastPathComponent().appendingPathComponent(language.lexiconFolder)
            let manifest = candidate.appendingPathComponent(LexiconFormat.manifestFileName)
            return FileManager.default.fileExists(atPath: manifest.path) ? Location(candidate, .found) : nil
        }
        /// The lexicon chosen for a language: its own (`lexicon_en =`), else `lexicon =` when the
        /// language is the one `lexicon =` goes with (the chosen model's, else Spanish).
        func chosenLexicon(_ language: Language, lexiconLanguage: Language) -> URL? {
            choices.lexicons[language] ?? (language == lexiconLanguage ? choices.lexicon : nil)
        }
        /// The entry of a model whose language its manifest gives; `lexiconLanguage` nil: that language.
        func entry(of model: Location, lexiconLanguage: Language?) throws(ModelError) -> Entry {
            let language = Language(code: try ModelManifest.read(directory: model.url.path).language)
            let chosen = chosenLexicon(language, lexiconLanguage: lexiconLanguage ?? language)
            return Entry(language: language, model: .success(model), lexicon: lexicon(language, chosen: chosen, beside: model.url))
        }

        let root =
            variable("MEDTAG_MODELS")
            ?? searchModelsRoot(
                executable: executable ?? runningExecutable(),
                workingDirectory: workingDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let chosen = try choices.model.map { name throws(ModelError) in
            try entry(of: Location(try locate(name, in: root), .chosen), lexiconLanguage: nil)
        }
        let lexiconLanguage = chosen?.language ?? .primary
        var entries: [Language: Entry] = [:]
        for language in Language.supported {
            let model: Result<Location, ModelError>
            if let name = choices.models[language] {
                model = .success(Location(try locate(name, in: root), .chosen))
            } else if let named = variable(language.modelVariable) {
                model = .success(Location(named, .environment))
            } else {
                model = Result { () throws(ModelError) in Location(try installedModel(of: language, in: root), .found) }
            }
            let lexiconChoice = chosenLexicon(language, lexiconLanguage: lexiconLanguage)
            entries[language] = Entry(
                language: language, model: model, lexicon: lexicon(language, chosen: lexiconChoice, beside: try? model.get().url))
        }
        var environmentModel: Result<Entry, ModelError>?
        if chosen == nil, let named = variable(Language.primary.modelVariable) {
            environmentModel = Result { () throws(ModelError) in
                try entry(of: Location(named, .environment), lexiconLanguage: lexiconLanguage)
            }
        }
        return ModelCatalog(modelsRoot: root, chosen: chosen, environmentModel: environmentModel, entries: entries)
    }

    /// A model given by folder path or by name under the `Models` folder.
    private static func locate(_ nameOrPath: String, in root: URL?) throws(ModelError) -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: nameOrPath)
        }
        guard let root else { throw ModelError(path: nameOrPath, reason: "no such folder, and no Models folder found") }
        let url = root.appendingPathComponent(nameOrPath)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("manifest.json").path) else {
            let installed = installedModels(in: root)
            throw ModelError(
                path: nameOrPath,
                reason: "no such model folder, nor a model of that name in \(root.path); installed: "
                    + (installed.isEmpty ? "none" : installed.joined(separator: ", ")))
        }
        return url
    }

    /// The first of a language's preferred models installed in the `Models` folder.
    private static func installedModel(of language: Language, in root: URL?) throws(ModelError) -> URL {
        let preferred = language.preferredModels
        guard !preferred.isEmpty else { throw ModelError(path: "Models", reason: "medtag has no model for language '\(language.code)'") }
        guard let root else {
            throw ModelError(
                path: "Models", reason: "no Models folder found near the executable or here; pass --model DIR or set MEDTAG_MODELS")
        }
        for name in preferred {
            let dir = root.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) { return dir }
        }
        throw ModelError(path: root.path, reason: "none of \(preferred.joined(separator: ", ")) is installed here")
    }

    /// The names of the models in a `Models` folder (sub-folders with a `manifest.json`), sorted.
    public static func installedModels(in root: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter {
            !$0.hasPrefix(".") && FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/manifest.json").path)
        }.sorted()
    }

    /// The `Models` folder found from the executable and the working directory (see ``modelsRoot``).
    private static func searchModelsRoot(executable: URL, workingDirectory: URL) -> URL? {
        let fm = FileManager.default
        let executableFolder = executable.deletingLastPathComponent()
        let installed = executableFolder.deletingLastPathComponent().appendingPathComponent("share/medtag/Models")
        if containsAModel(installed) { return installed.standardizedFileURL }
        for start in [executableFolder, workingDirectory] {
            var dir = start.standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("Models")
                if containsAModel(candidate) { return candidate }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        for system in ["/usr/share/medtag/Models", "/usr/local/share/medtag/Models"] where fm.fileExists(atPath: system) {
            return URL(fileURLWithPath: system)
        }
        return nil
    }

    /// True when `folder` holds one of the preferred models of a supported language.
    private static func containsAModel(_ folder: URL) -> Bool {
        Language.supported.flatMap(\.preferredModels).contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    /// The running executable, links resolved: `/proc/self/exe` where there is one (a medtag found
    /// through `PATH` has a bare name in `argv[0]`), else `argv[0]`.
    private static func runningExecutable() -> URL {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: target)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }
}
