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

struct InputTests {
    @Test func plainText() throws {
        #expect(try TextInput.decode(Array("\u{FEFF}Hola".utf8)) == "Hola")
        #expect(throws: InputError.self) { try TextInput.decode([]) }
        #expect(throws: InputError.self) { try TextInput.decode(Array(" \n ".utf8)) }
        do {
            _ = try TextInput.decode([0x48, 0x6F, 0x6C, 0x61, 0x20, 0xE1, 0x63, 0x69, 0x64, 0x6F])  // Latin-1 "Hola ácido"
            Issue.record("Latin-1 accepted as UTF-8")
        } catch {
            #expect(error.code == "encoding")
            #expect(error.reason.contains("offset 5"))
        }
        #expect(throws: InputError(code: "binary", reason: "byte 2 is NUL: this looks like a binary file, not text")) {
            try TextInput.decode([0x41, 0x42, 0x00, 0x43])
        }
        // UTF-16, either byte order: refused with how to convert it, not taken for binary.
        for bom: [UInt8] in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            do {
                _ = try TextInput.decode(bom + [0x48, 0x00, 0x6F, 0x00])
                Issue.record("UTF-16 accepted as UTF-8")
            } catch {
                #expect(error.code == "encoding" && error.reason.contains("UTF-16") && error.reason.contains("iconv -f utf-16"))
            }
        }
    }

    /// Found by the text-pieces fuzzer: the bad byte after a valid 3-byte character (U+FEFF here)
    /// was reported 3 bytes early.
    @Test func badByteAfterAMultiByteCharacterIsNamedExactly() {
        let bytes: [UInt8] = [0x75, 0x05, 0x02, 0xEF, 0xBB, 0xBF, 0xEF, 0x66, 0x66, 0x66]
        #expect(throws: InputError(code: "encoding", reason: "not valid UTF-8 (first bad byte at offset 6); convert it, e.g. iconv -f latin1 -t utf-8")) {
            try TextInput.decode(bytes)
        }
        // With a byte order mark first, offsets still count from the start of the file.
        #expect(throws: InputError(code: "encoding", reason: "not valid UTF-8 (first bad byte at offset 9); convert it, e.g. iconv -f latin1 -t utf-8")) {
            try TextInput.decode([0xEF, 0xBB, 0xBF] + bytes)
        }
    }

    @Test func xmlDublinCore() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <record xmlns:dc="http://purl.org/dc/elements/1.1/">
              <dc:identifier>S0001</dc:identifier>
              <dc:description>Tratado con &lt;5 mg&gt; de enalapril &amp; AAS &#233;xito &#xE1;.</dc:description>
              <dc:title>Caso clínico</dc:title>
              <other>ignored</other>
            </record>
            """
        #expect(try XMLText.extract(Array(xml.utf8)) == "Caso clínico\n\nTratado con <5 mg> de enalapril & AAS éxito á.\n")
    }

    @Test func xmlWithoutDublinCoreTakesAllText() throws {
        let xml = "<doc><p>Uno <b>dos</b></p><!-- nota --><p><![CDATA[tres <x>]]></p></doc>"
        #expect(try XMLText.extract(Array(xml.utf8)) == "Uno\n\ndos\n\ntres <x>\n")
    }

    @Test func xmlEntityDeclarationsAreRefused() {
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE d [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
            <d>secreto: &x;</d>
            """
        #expect(throws: XMLText.entitiesRefused) { try XMLText.extract(Array(xxe.utf8)) }
        let lol = """
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
            <lolz>&lol2;</lolz>
            """
        #expect(throws: XMLText.entitiesRefused) { try XMLText.extract(Array(lol.utf8)) }
    }
    @Test func xmlErrors() {
        #expect(throws: InputError.self) { try XMLText.extract(Array("<a><b></a>".utf8)) }
        #expect(throws: InputError.self) { try XMLText.extract(Array("<a>text".utf8)) }
        #expect(throws: InputError.self) { try XMLText.extract(Array("<a></a>".utf8)) }
        let deep = String(repeating: "<a>", count: 300) + "x" + String(repeating: "</a>", count: 300)
        #expect(throws: InputError.self) { try XMLText.extract(Array(deep.utf8)) }
    }
}
