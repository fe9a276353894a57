/// Tells Spanish from English text by counting very frequent function words of each language.
///
/// Clinical notes are long enough for this to be reliable after a sentence or two; very short or
/// symbol-only texts get the fallback language with a confidence of 0.
public struct LanguageIdentifier: Sendable {
    /// Function words by language code, lower-cased.
    public let markers: [String: Set<String>]

    public init(markers: [String: Set<String>] = LanguageIdentifier.defaultMarkers) {
        self.markers = markers
    }

    public static let defaultMarkers: [String: Set<String>] = [
        "es": [
            "de", "la", "el", "en", "y", "los", "las", "del", "se", "con", "por", "un", "una", "que", "para", "al",
            "es", "fue", "como", "su", "sin", "presenta", "paciente", "tras", "mediante", "años", "tratamiento",
        ],
        "en": [
            "the", "of", "and", "in", "to", "with", "was", "were", "is", "a", "for", "by", "that", "on", "as",
            "patients", "patient", "from", "after", "at", "this", "which", "treatment", "be", "are", "an",
        ],
    ]

    /// The most likely language and a confidence in 0…1 (the winner's share of marker hits).
    public func identify(_ text: String, fallback: String = "es") -> (language: String, confidence: Double) {
        var counts: [String: Int] = [:]
        var word = ""
        var words = 0
        func flush() {
            guard !word.isEmpty else { return }
            words += 1
            let lowered = word.lowercased()
            for (language, set) in markers where set.contains(lowered) { counts[language, default: 0] += 1 }
            word = ""
        }
        for scalar in text.unicodeScalars.prefix(20_000) {
            if scalar.properties.isAlphabetic { word.unicodeScalars.append(scalar) } else { flush() }
        }
        flush()
        let total = counts.values.reduce(0, +)
        guard total >= 2, let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else {
            return (fallback, 0)
        }
        return (best.key, Double(best.value) / Double(total))
    }
}
