import MedtagText

/// A sequence tagger: sentences as token strings in, mentions as token spans out.
public protocol Tagger: Sendable {
    /// Name shown in logs and outputs.
    var name: String { get }
    /// Mentions of each sentence, in the same order as the input.
    func tag(_ sentences: [[String]]) throws -> [[TokenSpan]]
}

/// Runs a ``Tagger`` over a tokenized document and stores its mentions as entities.
public struct TaggerComponent: DocumentComponent {
    public let tagger: any Tagger
    public var name: String { "tagger" }

    public init(tagger: any Tagger) {
        self.tagger = tagger
    }

    public func process(_ document: inout Document) throws {
        document.setEntities(fromTokenSpans: try tagger.tag(Self.sentences(of: document)))
    }

    /// The token texts of each sentence of a document, as the tagger takes them.
    public static func sentences(of document: Document) -> [[String]] {
        document.sentences.map { document.tokens[$0.tokens].map(\.text) }
    }
}

extension Document {
    /// Replaces the entities by the token spans of each sentence (one array per sentence, in
    /// order), in text order, numbered `T1`, `T2`, ….
    public mutating func setEntities(fromTokenSpans spans: [[TokenSpan]]) {
        precondition(spans.count == sentences.count, "one array of spans per sentence")
        var entities: [Entity] = []
        for (index, sentence) in sentences.enumerated() {
            let base = sentence.tokens.lowerBound
            for span in spans[index] {
                let first = tokens[base + span.start]
                let last = tokens[base + span.end - 1]
                entities.append(
                    Entity(
                        id: "", label: span.label, start: first.start, end: last.end,
                        text: text(from: first.start, to: last.end), sentence: index))
            }
        }
        entities.sort { ($0.start, $1.end) < ($1.start, $0.end) }
        for k in entities.indices { entities[k].id = "T\(k + 1)" }
        self.entities = entities
    }

    /// Gold or predicted entities of each sentence as token spans, for tag encoding.
    ///
    /// A mention whose edges fall inside a token is widened to whole tokens; one that crosses a
    /// sentence boundary is kept in the sentence where it starts, cut at the sentence end.
    public func tokenSpansBySentence() -> [[TokenSpan]] {
        var result = Array(repeating: [TokenSpan](), count: sentences.count)
        for entity in entities {
            guard let aligned = alignment(start: entity.start, end: entity.end),
                let s = sentenceIndex(containing: tokens[aligned.tokens.lowerBound].start)
            else { continue }
            let sentence = sentences[s]
            let end = min(aligned.tokens.upperBound, sentence.tokens.upperBound)
            result[s].append(
                TokenSpan(
                    start: aligned.tokens.lowerBound - sentence.tokens.lowerBound,
                    end: end - sentence.tokens.lowerBound, label: entity.label))
        }
        return result
    }
}
