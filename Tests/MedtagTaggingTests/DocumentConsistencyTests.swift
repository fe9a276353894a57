import Testing

@testable import MedtagTagging
import MedtagText

struct DocumentConsistencyTests {
    /// A document, one sentence a line, tokenized by the rules of `language`, with mentions given by
    /// text and occurrence.
    static func document(_ text: String, mentions: [(String, String, Int)], language: String = "es") -> Document {
        var document = Document(id: "d", text: text, language: language)
        Tokenizer(rules: .forLanguage(language)).process(&document)
        for (mention, label, occurrence) in mentions {
            var found = 0
            var from = text.unicodeScalars.startIndex
            while let range = text.unicodeScalars[from...].firstRange(of: mention.unicodeScalars) {
                if found == occurrence {
                    let start = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound)
                    let end = start + mention.unicodeScalars.count
                    document.entities.append(Entity(id: "", label: label, start: start, end: end, text: mention))
                    break
                }
                found += 1
                from = range.upperBound
            }
        }
        return document
    }

    @Test func aTaggedStringIsMarkedWhereItRecursUntagged() throws {
        let text = "Se inició sevelamer oral.\nTras un mes con sevelamer mejoró.\nLa insulina glargina siguió."
        var document = Self.document(text, mentions: [("sevelamer", "NORMALIZABLES", 0)])
        try DocumentConsistency().process(&document)
        let found = document.entities.map { "\($0.id) \($0.label) \($0.text) \($0.start)" }
        #expect(found == ["T1 NORMALIZABLES sevelamer 10", "T2 NORMALIZABLES sevelamer 42"])
        for entity in document.entities {
            #expect(document.text(from: entity.start, to: entity.end) == entity.text)
        }
    }

    @Test func multiTokenMentionsAndTheMostFrequentLabel() throws {
        let text = "limonada alcalina y limonada alcalina.\nDespués limonada alcalina otra vez."
        var document = Self.document(
            text, mentions: [("limonada alcalina", "NORMALIZABLES", 0), ("limonada alcalina", "NORMALIZABLES", 1)])
        try DocumentConsistency().process(&document)
        #expect(document.entities.count == 3)
        #expect(document.entities.allSatisfy { $0.label == "NORMALIZABLES" && $0.text == "limonada alcalina" })
    }

    @Test func overlapsCaseShortStringsAndRareTagsAreLeftAlone() throws {
        // Inside a longer mention, different case, too short, or mostly untagged: nothing is added.
        let text = "CLcr bajo. CLcr alto. CLcr normal. CLcr otra. Na y Na.\nácido fólico; Fólico; ácido fólico oral."
        var document = Self.document(
            text,
            mentions: [("CLcr", "NORMALIZABLES", 0), ("Na", "NORMALIZABLES", 0), ("fólico", "NORMALIZABLES", 0),
                ("ácido fólico", "NORMALIZABLES", 1)])
        let before = document.entities.count
        try DocumentConsistency().process(&document)
        #expect(document.entities.count == before + 0)
        // With a looser ratio the untagged CLcr places are marked.
        var loose = Self.document(text, mentions: [("CLcr", "NORMALIZABLES", 0)])
        try DocumentConsistency(maximumRatio: 3).process(&loose)
        #expect(loose.entities.filter { $0.text == "CLcr" }.count == 4)
    }
}
