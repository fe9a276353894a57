/// A language of the text medtag annotates, with the names that go with it: its shipped models,
/// its lexicon folder, its environment variables and its configuration keys.
///
/// Spanish, the ``primary`` language, has the unsuffixed names (`MEDTAG_MODEL`, `MEDTAG_LEXICON`,
/// `lexicon/`, `lexicon =`); every other language adds its code (`MEDTAG_MODEL_EN`,
/// `MEDTAG_LEXICON_EN`, `lexicon-en/`, `lexicon_en =`).
public struct Language: Hashable, Sendable, CustomStringConvertible {
    /// ISO 639-1 code, as a model's manifest gives it (`es`, `en`).
    public let code: String
    /// English name, for messages (`Spanish`); a language medtag has no model for is its quoted code.
    public let name: String
    /// The models medtag ships for the language, best first: the first one installed is its default.
    public let preferredModels: [String]

    private init(code: String, name: String, preferredModels: [String]) {
        self.code = code
        self.name = name
        self.preferredModels = preferredModels
    }

    public static let spanish = Language(
        code: "es", name: "Spanish", preferredModels: ["es-pharmaconer-bilstm-crf", "es-pharmaconer-gazetteer"])
    public static let english = Language(code: "en", name: "English", preferredModels: ["en-biomed-bilstm-crf"])

    /// The languages medtag has models for.
    public static let supported: [Language] = [.spanish, .english]

    /// The language of the unsuffixed names, and the one documents go to when identification is unsure.
    public static let primary: Language = .spanish

    /// The language of a code: one of ``supported``, else a language medtag has no model for.
    public init(code: String) {
        self = Self.supported.first { $0.code == code } ?? Language(code: code, name: "'\(code)'", preferredModels: [])
    }

    public static func == (a: Language, b: Language) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { code }

    /// The environment variable naming the language's model: `MEDTAG_MODEL`, `MEDTAG_MODEL_EN`.
    public var modelVariable: String { "MEDTAG_MODEL" + variableSuffix }

    /// The environment variable naming the language's lexicon: `MEDTAG_LEXICON`, `MEDTAG_LEXICON_EN`.
    public var lexiconVariable: String { "MEDTAG_LEXICON" + variableSuffix }

    /// The language's lexicon folder beside the model folder: `lexicon`, `lexicon-en`.
    public var lexiconFolder: String { self == .primary ? "lexicon" : "lexicon-\(code)" }

    /// The configuration key naming the language's model: `model_en`. Spanish's is `model`, which
    /// names a model of any language (the one of its manifest).
    public var modelKey: String { self == .primary ? "model" : "model_\(code)" }

    /// The configuration key naming the language's lexicon: `lexicon_en`. Spanish's is `lexicon`,
    /// which goes with `model` whatever its language.
    public var lexiconKey: String { self == .primary ? "lexicon" : "lexicon_\(code)" }

    private var variableSuffix: String { self == .primary ? "" : "_\(code.uppercased())" }
}
