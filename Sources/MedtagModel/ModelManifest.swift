import Foundation
import MedtagStorage
import MedtagTagging
import MedtagText

/// A model folder's `manifest.json`: the one description of a model, decoded once by this type
/// for every kind of tagger.
///
/// It names the tagger kind, language, labels, tag scheme (validated: an unknown scheme is an
/// error, never a silent BIO), the tokenizer version, and the SHA-256 of every file the runtime
/// reads. Neural models add their tags, network sizes and the token-feature constants they were
/// trained with, which the engine checks against its own at load.
public struct ModelManifest: Codable, Sendable, Equatable {
    /// A file of the model folder and its SHA-256 (lowercase hex).
    public struct FileEntry: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// Sizes of a Bi-LSTM-CRF network.
    public struct Dimensions: Codable, Sendable, Equatable {
        public var words: Int
        public var wordDim: Int
        public var chars: Int
        public var charDim: Int
        public var charHidden: Int
        public var casingDim: Int
        public var hidden: Int
        public var members: Int
        /// Hidden units of each direction of the character language model, if the model has one.
        public var charLMHidden: Int?
        /// Character-embedding size of the language model.
        public var charLMEmbedding: Int?
    }

    /// Token-feature constants a neural model was trained with.
    public struct FeatureConstants: Codable, Sendable, Equatable {
        /// Longer tokens keep their first and last `maxChars / 2` code points.
        public var maxChars: Int
        /// Number of casing classes.
        public var casingClasses: Int
        /// A token must be this many code points longer than an affix for the affix to count.
        public var affixMinRest: Int

        public init(maxChars: Int, casingClasses: Int, affixMinRest: Int) {
            self.maxChars = maxChars
            self.casingClasses = casingClasses
            self.affixMinRest = affixMinRest
        }
    }

    /// Folder name and display name, e.g. `es-pharmaconer-bilstm-crf`.
    public var name: String
    /// Which tagger reads the folder.
    public var kind: ModelKind
    /// ISO 639-1 language code of the text the model was trained on.
    public var language: String
    /// Entity labels the model predicts.
    public var labels: [String]
    /// Tag scheme the model was trained with.
    public var tagScheme: TagScheme
    /// The tokenizer version the model was trained with.
    public var tokenizerVersion: String
    /// Files by role (`weights`, `words`, `entries`, …), each with its checksum.
    public var files: [String: FileEntry]
    /// Tags in the order of the emission columns (neural models).
    public var tags: [String]?
    /// Network sizes (neural models).
    public var dimensions: Dimensions?
    /// Token-feature constants (neural models).
    public var features: FeatureConstants?
    /// Document-level steps run after the tagger, by name (`consistency`: ``DocumentConsistency``;
    /// `abbreviations`: ``AbbreviationPropagation``).
    public var postprocess: [String]?

    public init(
        name: String, kind: ModelKind, language: String, labels: [String], tagScheme: TagScheme, tokenizerVersion: String,
        files: [String: FileEntry] = [:], tags: [String]? = nil, dimensions: Dimensions? = nil,
        features: FeatureConstants? = nil, postprocess: [String]? = nil
    ) {
        self.name = name
        self.kind = kind
        self.language = language
        self.labels = labels
        self.tagScheme = tagScheme
        self.tokenizerVersion = tokenizerVersion
        self.files = files
        self.tags = tags
        self.dimensions = dimensions
        self.features = features
        self.postprocess = postprocess
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, language, labels, tagScheme, tokenizerVersion, files, tags, dimensions, features, postprocess
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let kindName = try c.decode(String.self, forKey: .kind)
        guard let kind = ModelKind(rawValue: kindName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c,
                debugDescription: "unknown model kind '\(kindName)' (known: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.kind = kind
        language = try c.decode(String.self, forKey: .language)
        labels = try c.decode([String].self, forKey: .labels)
        let scheme = try c.decode(String.self, forKey: .tagScheme)
        guard let known = TagScheme(rawValue: scheme) else {
            throw DecodingError.dataCorruptedError(
                forKey: .tagScheme, in: c,
                debugDescription: "unknown tag scheme '\(scheme)' (known: \(TagScheme.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        tagScheme = known
        tokenizerVersion = try c.decode(String.self, forKey: .tokenizerVersion)
        files = try c.decodeIfPresent([String: FileEntry].self, forKey: .files) ?? [:]
        tags = try c.decodeIfPresent([String].self, forKey: .tags)
        dimensions = try c.decodeIfPresent(Dimensions.self, forKey: .dimensions)
        features = try c.decodeIfPresent(FeatureConstants.self, forKey: .features)
        postprocess = try c.decodeIfPresent([String].self, forKey: .postprocess)
    }

    /// Decodes a manifest; `path` names the file in the error.
    public static func decode(_ bytes: [UInt8], path: String) throws(ModelError) -> ModelManifest {
        let manifest: ModelManifest
        do { manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(bytes)) } catch let DecodingError.dataCorrupted(context) {
            throw ModelError(path: path, reason: "the manifest is not valid: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError(path: path, reason: "the manifest has no '\(key.stringValue)'")
        } catch {
            throw ModelError(path: path, reason: "the manifest is not valid (\(error))")
        }
        if let postprocess = manifest.postprocess {
            for step in postprocess where !Self.knownPostprocess.contains(step) {
                throw ModelError(path: path, reason: "unknown postprocess step '\(step)' (known: \(Self.knownPostprocess.joined(separator: ", ")))")
            }
        }
        return manifest
    }

    /// Names accepted in ``postprocess``.
    public static let knownPostprocess = ["consistency", "abbreviations"]

    /// Reads and decodes `manifest.json` in the model folder at `directory`.
    public static func read(directory: String) throws(ModelError) -> ModelManifest {
        let path = directory.hasSuffix("/") ? directory + "manifest.json" : directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError(path: path, reason: "no manifest.json here (is this a model folder?)")
        }
        return try decode(Array(data), path: path)
    }

    /// Checks every file the manifest lists against its SHA-256; returns the roles checked.
    /// - Parameter directory: the model folder.
    @discardableResult
    public func verifyFiles(in directory: String) throws(ModelError) -> [String] {
        for (role, entry) in files.sorted(by: { $0.key < $1.key }) {
            let path = Self.path(of: entry, in: directory)
            let actual: String
            do {
                let file = try MappedFile(path: path)
                actual = withExtendedLifetime(file) { SHA256.hex(file.bytes) }
            } catch let error where error.empty {
                actual = SHA256.hex(UnsafeRawBufferPointer(start: nil, count: 0))
            } catch {
                throw Self.unreadable(role, path, error.reason)
            }
            try Self.check(actual, against: entry, path: path)
        }
        return files.keys.sorted()
    }

    /// The bytes of the file listed under `role`, checked against its SHA-256; nil when the
    /// manifest lists no such file.
    public func checkedContents(_ role: String, in directory: String) throws(ModelError) -> Data? {
        guard let entry = files[role] else { return nil }
        let path = Self.path(of: entry, in: directory)
        guard let data = FileManager.default.contents(atPath: path) else { throw Self.unreadable(role, path, "missing or unreadable") }
        try Self.check(data.withUnsafeBytes { SHA256.hex($0) }, against: entry, path: path)
        return data
    }

    private static func path(of entry: FileEntry, in directory: String) -> String {
        directory.hasSuffix("/") ? directory + entry.path : directory + "/" + entry.path
    }

    private static func unreadable(_ role: String, _ path: String, _ why: String) -> ModelError {
        ModelError(path: path, reason: "listed as '\(role)' in the manifest but cannot be read (\(why))")
    }

    private static func check(_ actual: String, against entry: FileEntry, path: String) throws(ModelError) {
        guard actual == entry.sha256.lowercased() else {
            throw ModelError(path: path, reason: "checksum mismatch (manifest says sha256 \(entry.sha256), file has \(actual))")
        }
    }

    /// The document-level steps the manifest asks for, in order.
    public func postprocessComponents() -> [any DocumentComponent] {
        (postprocess ?? []).compactMap(Self.postprocessComponent(named:))
    }

    /// The document-level step of a name in ``knownPostprocess``; nil for any other name.
    public static func postprocessComponent(named step: String) -> (any DocumentComponent)? {
        switch step {
        case "consistency": DocumentConsistency()
        case "abbreviations": AbbreviationPropagation()
        default: nil
        }
    }
}

/// The tagger a model folder is read by, as its manifest's `kind` names it.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// A dictionary of entries (`entries.tsv`).
    case gazetteer
    /// A Bi-LSTM-CRF network (`weights.safetensors` and its vocabularies).
    case bilstmCRF = "bilstm-crf"
}

/// A model folder that cannot be used: the file or folder at fault and why.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or directory at fault.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "model \(path): \(reason)" }
}
