import Foundation
import MedtagText

/// Pipeline component that links each entity not yet normalized to a concept:
/// sets `code` (a concept id or `<null>`), `term`, `method` (the cascade step) and `score`.
public struct NormalizerComponent: DocumentComponent {
    /// The cascade used.
    public let normalizer: ConceptNormalizer
    /// "normalizer".
    public var name: String { "normalizer" }

    /// A component over a loaded normalizer.
    public init(normalizer: ConceptNormalizer) { self.normalizer = normalizer }

    /// Loads the lexicon directory (manifest, lexicon file, abbreviation table).
    public init(lexiconDirectory: URL, verify: Bool = true) throws(LexiconError) {
        self.normalizer = try ConceptNormalizer.load(directory: lexiconDirectory, verify: verify)
    }

    /// Normalizes every entity whose `code` is nil; entities already coded are left alone.
    public func process(_ document: inout Document) {
        for index in document.entities.indices where document.entities[index].code == nil {
            let entity = document.entities[index]
            let match = normalizer.normalize(entity.text, label: entity.label)
            document.entities[index].code = match.code
            document.entities[index].term = match.term
            document.entities[index].method = match.method.rawValue
            document.entities[index].score = match.score
        }
    }
}

/// Finds the lexicon directory: `$MEDTAG_LEXICON`, else `lexicon/` in the `Models` folder.
public enum LexiconLocator {
    /// Name of the lexicon folder inside `Models/`.
    public static let folderName = "lexicon"

    /// `$MEDTAG_LEXICON` if set, else `<modelsRoot>/lexicon` when it holds a manifest, else nil.
    public static func defaultDirectory(modelsRoot: URL?) -> URL? {
        if let env = ProcessInfo.processInfo.environment["MEDTAG_LEXICON"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        guard let root = modelsRoot else { return nil }
        let candidate = root.appendingPathComponent(folderName)
        let manifest = candidate.appendingPathComponent(LexiconFormat.manifestFileName)
        return FileManager.default.fileExists(atPath: manifest.path) ? candidate : nil
    }
}
