import Testing

@testable import MedtagTagging
import MedtagText

struct AbbreviationPropagationTests {
    /// An English document, one sentence a line, with mentions given by text and occurrence,
    /// numbered in text order.
    static func document(_ text: String, mentions: [(String, String, Int)]) -> Document {
        var document = DocumentConsistencyTests.document(text, mentions: mentions, language: "en")
        document.entities.sort { ($0.start, $1.end) < ($1.start, $0.end) }
        for k in document.entities.indices { document.entities[k].id = "T\(k + 1)" }
        return document
    }

    /// Each definition as `long form = short form`.
    static func definitions(_ text: String) -> [String] {
        let document = document(text, mentions: [])
        return AbbreviationPropagation.definitions(in: document).map {
            AbbreviationPropagation.text(of: $0.longForm, in: document) + " = " + AbbreviationPropagation.text(of: $0.shortForm, in: document)
        }
    }

    static func listing(_ document: Document) -> [String] {
        document.entities.map { "\($0.id) \($0.label) \($0.text) \($0.start)" }
    }

    @Test func definitionsAreFoundAsSchwartzAndHearstFindThem() {
        #expect(Self.definitions("Patients with atrial fibrillation (AF) were treated.") == ["atrial fibrillation = AF"])
        // The shortest run of words whose characters hold the letters in order, the first at a word start.
        #expect(Self.definitions("We studied the risk of neuroleptic malignant syndrome (NMS) in them.") == ["neuroleptic malignant syndrome = NMS"])
        #expect(Self.definitions("It treats non-small cell lung cancer (NSCLC; stage IV).") == ["non-small cell lung cancer = NSCLC"])
        #expect(Self.definitions("Heparin-induced thrombocytopenia (HIT) is rare.") == ["Heparin-induced thrombocytopenia = HIT"])
        // The simple reverse form.
        #expect(Self.definitions("Rates of AF (atrial fibrillation) rose.") == ["atrial fibrillation = AF"])
    }

    @Test func parenthesesThatDefineNothingAreIgnored() throws {
        // Letters out of order or missing, a number first, too long, three words, an empty or unclosed parenthesis.
        for text in [
            "Patients with atrial fibrillation (XY) were treated.", "Blood pressure fell (see below).",
            "Doses of aspirin (325 mg) were given.", "Patients with renal failure (abcdefghijkl) were seen.",
            "Renal failure (P < 0.05) was seen.", "Renal failure () was seen.", "Renal failure (RF was seen.",
        ] {
            #expect(Self.definitions(text) == [], "\(text)")
            var document = Self.document(text + "\nXY and RF later.", mentions: [("failure", "Disease", 0), ("fibrillation", "Disease", 0)])
            let before = document.entities
            try AbbreviationPropagation().process(&document)
            #expect(document.entities == before, "\(text)")
        }
    }

    @Test func aDefinedShortFormAndItsLaterOccurrencesGetTheLongFormsLabel() throws {
        let text = "Patients with atrial fibrillation (AF) were treated.\nAF recurred in 12 of them; AF-related stroke was rare."
        var document = Self.document(text, mentions: [("atrial fibrillation", "Disease", 0)])
        try AbbreviationPropagation().process(&document)
        #expect(
            Self.listing(document) == [
                "T1 Disease atrial fibrillation 14", "T2 Disease AF 35", "T3 Disease AF 53", "T4 Disease AF 80",
            ])
        for entity in document.entities {
            #expect(document.text(from: entity.start, to: entity.end) == entity.text)
        }
        #expect(document.entities.filter { $0.text == "AF" }.map(\.sentence) == [0, 1, 1])
        // A mention ending where the long form ends gives its label too.
        var ending = Self.document(text, mentions: [("fibrillation", "Disease", 0)])
        try AbbreviationPropagation().process(&ending)
        #expect(ending.entities.filter { $0.text == "AF" }.count == 3)
    }

    @Test func nothingBeforeTheDefinitionNorInsideOrAcrossAMention() throws {
        let text = "AF is common.\nPatients with atrial fibrillation (AF) were seen.\nAF recurred; AF burden rose; af was rare."
        var document = Self.document(
            text, mentions: [("atrial fibrillation", "Disease", 0), ("AF burden", "Finding", 0)])
        try AbbreviationPropagation().process(&document)
        #expect(
            Self.listing(document) == [
                "T1 Disease atrial fibrillation 28", "T2 Disease AF 49", "T3 Disease AF 64", "T4 Finding AF burden 77",
            ])
        // A short form inside a mention at its definition is no definition.
        var inside = Self.document(text, mentions: [("atrial fibrillation (AF)", "Disease", 0)])
        let before = inside.entities
        try AbbreviationPropagation().process(&inside)
        #expect(inside.entities == before)
    }

    @Test func aTaggedShortFormKeepsItsLabelAndLeavesItsLongFormAlone() throws {
        let text = "Rats received puromycin aminonucleoside (PAN) daily.\nPAN caused proteinuria in rats given PAN."
        var document = Self.document(text, mentions: [("PAN", "Chemical", 0), ("proteinuria", "Disease", 0)])
        try AbbreviationPropagation().process(&document)
        #expect(
            Self.listing(document) == [
                "T1 Chemical PAN 41", "T2 Chemical PAN 53", "T3 Disease proteinuria 64", "T4 Chemical PAN 90",
            ])
    }

    @Test func aDocumentOfGivenTokensKeepsItsTokensAndSpans() {
        let sentences = [["Lithium", "(", "Li", ")", "toxicity", "."], ["Li", "-", "induced", "polyuria"]]
        var document = Document(id: "d", sentences: sentences, language: "en")
        #expect(document.text == "Lithium ( Li ) toxicity .\nLi - induced polyuria")
        #expect(document.tokens.allSatisfy { document.text(from: $0.start, to: $0.end) == $0.text })
        #expect(document.sentences.map { document.tokens(of: $0).map(\.text) } == sentences)
        let spans = [[TokenSpan(start: 0, end: 1, label: "Chemical")], [TokenSpan(start: 3, end: 4, label: "Disease")]]
        document.setEntities(fromTokenSpans: spans)
        #expect(Self.listing(document) == ["T1 Chemical Lithium 0", "T2 Disease polyuria 39"])
        #expect(document.tokenSpansBySentence() == spans)
    }
}
