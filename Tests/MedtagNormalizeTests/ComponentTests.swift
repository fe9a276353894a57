import Foundation
import MedtagFormats
import MedtagText
import Testing

@testable import MedtagNormalize
import MedtagTestSupport

@Suite struct ComponentTests {
    @Test func fillsCodeTermMethodAndScoreOfUncodedEntities() throws {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try LexiconTests.sample().write(to: dir, abbreviations: "abbreviations.tsv")
        try FileManager.default.copyItem(at: Support.abbreviationTable, to: dir.appendingPathComponent("abbreviations.tsv"))
        let component = try NormalizerComponent(lexiconDirectory: dir)
        #expect(component.name == "normalizer")

        let text = "Tratada con Durogesic y AAS; LDH elevada (lacticodeshidrogenasa). Tomaba xyzzy."
        var document = Document(id: "d1", text: text)
        func entity(_ id: String, _ label: String, _ mention: String) -> Entity {
            let prefix = text.range(of: mention)!.lowerBound
            let start = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: prefix)
            return Entity(id: id, label: label, start: start, end: start + mention.unicodeScalars.count, text: mention)
        }
        document.entities = [
            entity("T1", "NORMALIZABLES", "Durogesic"), entity("T2", "NORMALIZABLES", "AAS"),
            entity("T3", "PROTEINAS", "LDH"), entity("T4", "PROTEINAS", "lacticodeshidrogenasa"),
            entity("T5", "NORMALIZABLES", "xyzzy"),
        ]
        var coded = entity("T6", "NORMALIZABLES", "Tomaba")
        coded.code = "12345"
        document.entities.append(coded)
        component.process(&document)
        let byId = Dictionary(uniqueKeysWithValues: document.entities.map { ($0.id, $0) })
        #expect(byId["T1"]?.code == "373492002")
        #expect(byId["T1"]?.method == "brand")
        #expect(byId["T1"]?.term == "fentanilo")
        #expect(byId["T2"]?.code == "387458008")
        #expect(byId["T2"]?.method == "abbreviation")
        #expect(byId["T3"]?.method == "exact")
        #expect(byId["T3"]?.score == 1)
        #expect(byId["T4"]?.code == "259319003")
        #expect(byId["T4"]?.method == "levenshtein")
        #expect(byId["T5"]?.code == "<null>")
        #expect(byId["T6"]?.code == "12345")  // already coded: left alone

        // Codes reach the BRAT AnnotatorNotes and the subtrack-2 TSV.
        let ann = BRAT.render(document)
        #expect(ann.contains("AnnotatorNotes T1\t373492002"))
        let tsv = SubtrackTSV.render(document)
        #expect(tsv.contains("d1\t373492002"))
        #expect(tsv.contains("d1\t259319003"))
    }

    @Test func missingLexiconFolderIsAClearError() throws {
        let parent = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(parent) }
        let dir = parent.appendingPathComponent("nowhere")
        do {
            _ = try NormalizerComponent(lexiconDirectory: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("nowhere/lexicon.json"))
        }
    }
}
