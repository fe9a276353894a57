import MedtagIngest
import Testing

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
