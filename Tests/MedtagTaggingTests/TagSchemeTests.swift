import MedtagText
import Testing

@testable import MedtagTagging

struct TagSchemeTests {
    let flat = [
        TokenSpan(start: 0, end: 1, label: "NORMALIZABLES"), TokenSpan(start: 2, end: 5, label: "PROTEINAS"),
        TokenSpan(start: 5, end: 7, label: "NORMALIZABLES"),
    ]

    @Test func encodings() {
        #expect(
            TagScheme.bio.encode(flat, count: 8) == [
                "B-NORMALIZABLES", "O", "B-PROTEINAS", "I-PROTEINAS", "I-PROTEINAS", "B-NORMALIZABLES", "I-NORMALIZABLES", "O",
            ])
        #expect(
            TagScheme.bioes.encode(flat, count: 8) == [
                "S-NORMALIZABLES", "O", "B-PROTEINAS", "I-PROTEINAS", "E-PROTEINAS", "B-NORMALIZABLES", "E-NORMALIZABLES", "O",
            ])
        #expect(
            TagScheme.bmewov.encode(flat, count: 8) == [
                "W-NORMALIZABLES", "O", "B-PROTEINAS", "M-PROTEINAS", "E-PROTEINAS", "B-NORMALIZABLES", "E-NORMALIZABLES", "O",
            ])
    }

    @Test(arguments: TagScheme.allCases)
    func flatMentionsRoundTrip(_ scheme: TagScheme) {
        #expect(scheme.decode(scheme.encode(flat, count: 8)) == flat)
    }

    @Test func nestedMentionKeptByBMEWOVOnly() {
        // "receptor de estrógenos tipo alfa": a protein with a nested compound in the middle.
        let outer = TokenSpan(start: 0, end: 5, label: "PROTEINAS")
        let inner = TokenSpan(start: 2, end: 3, label: "NORMALIZABLES")
        let tags = TagScheme.bmewov.encode([outer, inner], count: 5)
        #expect(tags == ["B-PROTEINAS", "M-PROTEINAS", "V-NORMALIZABLES", "M-PROTEINAS", "E-PROTEINAS"])
        #expect(Set(TagScheme.bmewov.decode(tags)) == [outer, inner])
        #expect(TagScheme.bio.decode(TagScheme.bio.encode([outer, inner], count: 5)) == [outer])
        #expect(TagScheme.bio.representable([outer, inner]) == [outer])
        #expect(TagScheme.bmewov.representable([outer, inner]).count == 2)
        // A nested mention on the outer mention's edge is not representable, and says so.
        let edge = TokenSpan(start: 4, end: 5, label: "NORMALIZABLES")
        #expect(TagScheme.bmewov.representable([outer, edge]) == [outer])
    }

    @Test func lenientDecodingOfModelOutput() {
        #expect(TagScheme.bio.decode(["I-X", "I-X", "O", "B-Y"]) == [TokenSpan(start: 0, end: 2, label: "X"), TokenSpan(start: 3, end: 4, label: "Y")])
        #expect(TagScheme.bioes.decode(["B-X", "I-Y", "E-Y"]) == [TokenSpan(start: 0, end: 1, label: "X"), TokenSpan(start: 1, end: 3, label: "Y")])
        #expect(TagScheme.bmewov.decode(["V-X"]) == [TokenSpan(start: 0, end: 1, label: "X")])
        #expect(TagScheme.bmewov.decode(["B-X", "M-X"]) == [TokenSpan(start: 0, end: 2, label: "X")])
    }

    @Test func tagInventory() {
        #expect(TagScheme.bmewov.tags(for: ["A"]) == ["O", "B-A", "M-A", "E-A", "W-A", "V-A"])
        #expect(TagScheme.split("B-NO_NORMALIZABLES") == ("B", "NO_NORMALIZABLES"))
        #expect(TagScheme.split("O") == ("O", ""))
    }
}

struct GazetteerTaggerTests {
    @Test func longestMatchWins() throws {
        let tagger = try GazetteerTagger(tsv: "NORMALIZABLES\tácido\nNORMALIZABLES\tácido fólico\nPROTEINAS\ts - 100\n")
        let spans = tagger.tag([["Ácido", "fólico", "y", "S", "-", "100"], ["ácido"]])
        #expect(spans[0] == [TokenSpan(start: 0, end: 2, label: "NORMALIZABLES"), TokenSpan(start: 3, end: 6, label: "PROTEINAS")])
        #expect(spans[1] == [TokenSpan(start: 0, end: 1, label: "NORMALIZABLES")])
    }

    @Test func badLineIsReported() {
        #expect(throws: GazetteerError.self) { try GazetteerTagger(tsv: "NORMALIZABLES\tok\nbroken line\n") }
    }

    @Test func buildKeepsPreciseMentionsOnly() {
        let tokenizer = Tokenizer()
        func doc(_ text: String, _ spans: [(Int, Int, String)]) -> Document {
            var d = Document(id: "d", text: text)
            tokenizer.process(&d)
            d.entities = spans.map { Entity(id: "T", label: $0.2, start: $0.0, end: $0.1, text: d.text(from: $0.0, to: $0.1)) }
            return d
        }
        // "hierro" is annotated once in three occurrences: it stays out. "enalapril" always: it goes in.
        let docs = [
            doc("enalapril y hierro", [(0, 9, "NORMALIZABLES"), (12, 18, "NORMALIZABLES")]),
            doc("hierro en sangre. Hierro.", []),
            doc("con enalapril", [(4, 13, "NORMALIZABLES")]),
        ]
        let tagger = GazetteerTagger.build(documents: docs, terms: ["Oxicodona"], termLabel: "NORMALIZABLES", tokenizer: tokenizer)
        #expect(tagger.entries["enalapril"] == "NORMALIZABLES")
        #expect(tagger.entries["hierro"] == nil)
        #expect(tagger.entries["oxicodona"] == "NORMALIZABLES")
    }
}
