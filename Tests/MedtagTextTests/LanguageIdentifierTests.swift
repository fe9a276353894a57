import Testing

@testable import MedtagText

struct LanguageIdentifierTests {
    let identifier = LanguageIdentifier()

    @Test(arguments: [
        ("Paciente de 70 años que presenta dolor abdominal tras la ingesta de paracetamol.", "es"),
        ("Se inició tratamiento con enalapril y la evolución fue favorable.", "es"),
        ("The patient was treated with cisplatin and the tumour regressed.", "en"),
        ("Naloxone reverses the antihypertensive effect of clonidine in rats.", "en"),
        ("Tratado con Durogesic®; buena evolución en la consulta.", "es"),
    ])
    func identifies(_ text: String, _ expected: String) {
        let result = identifier.identify(text)
        #expect(result.language == expected)
        #expect(result.confidence > 0.5)
    }

    @Test func tooLittleTextFallsBack() {
        #expect(identifier.identify("HbA1c 7,2 %", fallback: "en") == ("en", 0))
        #expect(identifier.identify("", fallback: "es").confidence == 0)
    }
}
