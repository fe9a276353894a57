import MedtagTagging
import MedtagText
import Testing

@testable import MedtagFormats

private func annotated(_ text: String, _ entities: [(String, Int, Int, String?)]) -> Document {
    var document = Document(id: "caso-1", text: text)
    Tokenizer().process(&document)
    document.entities = entities.enumerated().map { k, e in
        Entity(id: "T\(k + 1)", label: e.0, start: e.1, end: e.2, text: document.text(from: e.1, to: e.2), code: e.3)
    }
    return document
}

struct BRATTests {
    @Test func parsesMentionsAndNotes() throws {
        let ann = "T1\tNORMALIZABLES 907 920\ttriglicéridos\n#1\tAnnotatorNotes T1\t85600001\nT2\tUNCLEAR 375 386\tcigarrillos\n#2\tAnnotatorNotes T2\t<null>\nR1\tRel Arg1:T1 Arg2:T2\n"
        let entities = try BRAT.parse(ann)
        #expect(entities.count == 2)
        #expect(entities[0] == Entity(id: "T1", label: "NORMALIZABLES", start: 907, end: 920, text: "triglicéridos", code: "85600001"))
        #expect(entities[1].code == "<null>")
    }

    @Test func roundTrip() throws {
        let document = annotated("Ácido fólico y S-100.", [("NORMALIZABLES", 0, 12, "63718003"), ("PROTEINAS", 15, 20, nil)])
        let text = BRAT.render(document)
        #expect(text == "T1\tNORMALIZABLES 0 12\tÁcido fólico\n#1\tAnnotatorNotes T1\t63718003\nT2\tPROTEINAS 15 20\tS-100\n")
        #expect(try BRAT.parse(text) == document.entities)
    }

    @Test func errorsNameTheLine() {
        #expect(throws: FormatError(format: "BRAT", line: 2, reason: "bad offsets 'x 5'")) {
            try BRAT.parse("T1\tA 0 1\ta\nT2\tA x 5\tb\n")
        }
        #expect(throws: FormatError.self) { try BRAT.parse("T1\tA 0 1\n") }
    }
}

struct CoNLLTests {
    @Test func rendersAndParses() throws {
        let document = annotated("Toma ácido fólico.\nBien.", [("NORMALIZABLES", 5, 17, nil)])
        let text = CoNLL.render([document], scheme: .bmewov)
        #expect(
            text
                == "-DOCSTART-\tcaso-1\n\nToma\t0\t4\tO\nácido\t5\t10\tB-NORMALIZABLES\nfólico\t11\t17\tE-NORMALIZABLES\n.\t17\t18\tO\n\nBien\t19\t23\tO\n.\t23\t24\tO\n\n")
        let blocks = try CoNLL.parse(text)
        #expect(blocks.count == 1)
        #expect(blocks[0].id == "caso-1")
        #expect(blocks[0].sentences.map(\.count) == [4, 2])
        #expect(blocks[0].sentences[0][1] == CoNLL.Row(token: "ácido", start: 5, end: 10, tag: "B-NORMALIZABLES"))
        #expect(try CoNLL.parse("a\tB-X\nb\tI-X\n\nc\tO\n")[0].sentences.count == 2)
    }
}

struct CSVTests {
    @Test func quotesAndNeutralizes() {
        #expect(CSVTable.quote("plain") == "plain")
        #expect(CSVTable.quote("a,b") == "\"a,b\"")
        #expect(CSVTable.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVTable.quote("two\nlines") == "\"two\nlines\"")
        #expect(CSVTable.quote("=1+1") == "'=1+1")
        #expect(CSVTable.quote("+5-3") == "'+5-3")
        #expect(CSVTable.quote("-2") == "'-2")
        #expect(CSVTable.quote("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVTable.quote("=A1,B1") == "\"'=A1,B1\"")
    }

    @Test func tableHasBOMHeaderAndRows() {
        var document = annotated("Ácido fólico", [("NORMALIZABLES", 0, 12, "63718003")])
        document.entities[0].term = "ácido fólico"
        document.entities[0].method = "exact"
        document.entities[0].score = 1
        document.entities[0].sentence = 0
        let text = CSVTable.render([document], input: "lote.zip")
        #expect(text.hasPrefix("\u{FEFF}input,document,entity_id,label,start,end,text,code,term,method,score,sentence\r\n"))
        #expect(text.hasSuffix("\r\nlote.zip,caso-1,T1,NORMALIZABLES,0,12,Ácido fólico,63718003,ácido fólico,exact,1,1\r\n"))
    }

    @Test func subtrackTSVListsDistinctCodes() {
        let document = annotated(
            "a b c d", [("X", 0, 1, "1"), ("X", 2, 3, "<null>"), ("X", 4, 5, "1"), ("X", 6, 7, "2")])
        #expect(SubtrackTSV.render(document) == "caso-1\t1\ncaso-1\t<null>\ncaso-1\t2\n")
        #expect(SubtrackTSV.parse("d\t1\nd\t2\ne\t3\n") == ["d": ["1", "2"], "e": ["3"]])
    }

    @Test func rendererNamesFiles() throws {
        let document = annotated("Ácido", [("NORMALIZABLES", 0, 5, "1")])
        let files = OutputRenderer().render(document, baseName: "sub/x", formats: [.csv, .brat])
        #expect(files.map(\.fileName) == ["sub/x.ann", "sub/x.txt", ResultTable.csvName])
        #expect(files[1].bytes == Array("Ácido".utf8))
        // The table gets rows only (its owner writes the header once); a per-document table gets its header.
        #expect(!String(decoding: files[2].bytes, as: UTF8.self).contains("entity_id"))
        let each = OutputRenderer().render(document, baseName: "sub/x", formats: [.csvDocuments, .tsvDocuments, .tsv], input: "a.zip")
        #expect(each.map(\.fileName) == ["sub/x.csv", ResultTable.tsvName, "subtrack2/sub/x.tsv"])
        #expect(String(decoding: each[0].bytes, as: UTF8.self).hasPrefix("\u{FEFF}input,document,"))
        #expect(each[1].bytes == each[2].bytes)
        // The run's subtrack-2 table lies outside subtrack2/, which holds only the documents' files.
        #expect(ResultTable.names(for: [.tsv, .brat, .csv]) == ["medtag-all.csv", "tables/medtag-all.tsv"])
        #expect(throws: FormatError.self) { try OutputFormat.parseList("brat,pdf") }
        #expect(try OutputFormat.parseList("csv, brat,csv") == [.csv, .brat])
    }
}
