import Testing

@testable import MedtagText

private func tokens(_ text: String, _ rules: TokenizerRules = .spanish) -> [String] {
    var document = Document(id: "t", text: text)
    Tokenizer(rules: rules).process(&document)
    return document.tokens.map(\.text)
}

private func sentences(_ text: String, _ rules: TokenizerRules = .spanish) -> [String] {
    var document = Document(id: "t", text: text)
    Tokenizer(rules: rules).process(&document)
    return document.sentences.map { document.text(from: $0.start, to: $0.end) }
}

struct TokenizerTests {
    @Test(arguments: [
        ("Dr. Pérez", ["Dr.", "Pérez"]),
        ("aprox. 3 cm", ["aprox.", "3", "cm"]),
        ("p. ej. paracetamol", ["p.", "ej.", "paracetamol"]),
        ("amoxicilina i.v. cada 8 h", ["amoxicilina", "i.v.", "cada", "8", "h"]),
        ("glucosa 110 mg/dl.", ["glucosa", "110", "mg/dl", "."]),
        ("creatinina 1,2 mg/dL; 3H-timidina", ["creatinina", "1,2", "mg/dL", ";", "3H", "-", "timidina"]),
        ("dosis de 0,5 mg", ["dosis", "de", "0,5", "mg"]),
        ("pH 2.5 y 7,35", ["pH", "2.5", "y", "7,35"]),
        ("5mg de morfina", ["5", "mg", "de", "morfina"]),
        ("0,5mg/kg/día", ["0,5", "mg/kg/día"]),
        ("positiva para S-100.", ["positiva", "para", "S", "-", "100", "."]),
        ("Alfa-Feto-Proteina", ["Alfa", "-", "Feto", "-", "Proteina"]),
        ("anti-TNF", ["anti", "-", "TNF"]),
        ("(AE1-AE3)", ["(", "AE1", "-", "AE3", ")"]),
        ("A.I.N.E. orales", ["A.I.N.E.", "orales"]),
        ("Na+/K+", ["Na", "+", "/", "K", "+"]),
        ("HbA1c: 7%", ["HbA1c", ":", "7", "%"]),
        ("«ácido»", ["«", "ácido", "»"]),
        ("CD34+, CD117-", ["CD34", "+", ",", "CD117", "-"]),
    ])
    func spanishTokens(_ input: String, _ expected: [String]) {
        #expect(tokens(input) == expected)
    }

    @Test func englishTokens() {
        #expect(tokens("e.g. 5 mg/kg i.v. in rats.", .english) == ["e.g.", "5", "mg/kg", "i.v.", "in", "rats", "."])
    }

    @Test func sentenceSplits() {
        #expect(
            sentences("Se pautó enalapril. El Dr. Ruiz lo revisó aprox. a las 8 h.\nEvolución favorable")
                == ["Se pautó enalapril.", "El Dr. Ruiz lo revisó aprox. a las 8 h.", "Evolución favorable"])
        // A period before a lower-case word, a decimal or an abbreviation does not end a sentence.
        #expect(sentences("Tomaba 2.5 mg, p. ej. al día. ¿Mejoró? Sí.") == ["Tomaba 2.5 mg, p. ej. al día.", "¿Mejoró?", "Sí."])
        #expect(sentences("vs. placebo. 3 pacientes") == ["vs. placebo.", "3 pacientes"])
    }

    @Test func offsetsAreCodePointsInAccentedAndDecomposedText() {
        // "é" precomposed, then "e" + combining acute; an emoji outside the BMP; CRLF.
        let text = "Café con cafe\u{301}ína 5mg 😀 S-100\r\nÁcido fólico."
        var document = Document(id: "t", text: text)
        Tokenizer().process(&document)
        let scalars = Array(text.unicodeScalars)
        for token in document.tokens {
            #expect(String(String.UnicodeScalarView(scalars[token.start..<token.end])) == token.text)
        }
        #expect(document.tokens.map(\.text).contains("cafe\u{301}ína"))
        let acido = try! #require(document.tokens.first { $0.text == "Ácido" })
        // Code points, not Characters: the decomposed é and the emoji each shift differently.
        #expect(acido.start == Array(text.unicodeScalars).firstIndex(of: "Á"))
        #expect(document.sentences.count == 2)
    }

    @Test func everyTokenMatchesItsSourceOnMixedText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["ácido", " ", ".", "5", ",", "-", "mg", "/", "dl", "\n", "i.v.", "(", ")", "e\u{301}", "😀", "\t", "A.", "Dr."]
        for _ in 0..<200 {
            let text = (0..<40).map { _ in pieces.randomElement(using: &generator)! }.joined()
            var document = Document(id: "t", text: text)
            Tokenizer().process(&document)
            for token in document.tokens {
                #expect(document.text(from: token.start, to: token.end) == token.text)
                #expect(!token.text.isEmpty)
            }
            for sentence in document.sentences {
                #expect(document.tokens[sentence.tokens].first?.start == sentence.start)
            }
            // Tokens cover every non-space character, in order, without overlap.
            var covered = 0
            for token in document.tokens {
                #expect(token.start >= covered)
                covered = token.end
            }
        }
    }

    @Test func alignmentFindsTokensAndExactness() {
        var document = Document(id: "t", text: "con anti-TNF semanal")
        Tokenizer().process(&document)
        let exact = try! #require(document.alignment(start: 4, end: 12))
        #expect(exact.isExact)
        #expect(document.tokens[exact.tokens].map(\.text) == ["anti", "-", "TNF"])
        let inner = try! #require(document.alignment(start: 10, end: 11))
        #expect(!inner.isExact)
        #expect(document.alignment(start: 3, end: 4) == nil)
    }
}
