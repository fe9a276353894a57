import MedtagText

/// How well gold mentions line up with medtag's tokens and sentences.
public struct AlignmentStatistics: Sendable {
    public var mentions = 0
    /// Mentions whose start or end falls inside a token.
    public var misaligned = 0
    /// Mentions that begin in one sentence and end in another.
    public var crossSentence = 0
    /// A few misaligned mentions with their tokens, for inspection.
    public var examples: [String] = []

    public init(_ documents: [Document]) {
        for document in documents {
            for entity in document.entities {
                mentions += 1
                guard let aligned = document.alignment(start: entity.start, end: entity.end) else {
                    misaligned += 1
                    continue
                }
                if !aligned.isExact {
                    misaligned += 1
                    if examples.count < 40 {
                        let tokens = document.tokens[aligned.tokens].map(\.text).joined(separator: " | ")
                        examples.append("\(document.id) \(entity.label) '\(entity.text)' in [\(tokens)]")
                    }
                }
                if document.sentenceIndex(containing: entity.start) != document.sentenceIndex(containing: max(entity.start, entity.end - 1)) {
                    crossSentence += 1
                }
            }
        }
    }

    /// Share of mentions not on token boundaries.
    public var misalignedRate: Double { mentions == 0 ? 0 : Double(misaligned) / Double(mentions) }
}
