import Testing

@testable import MedtagFormats

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
}
