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
