import Foundation

/// Folds a mention or a lexicon term to the key the lexicon is indexed by.
///
/// Folding lowercases, removes accents and other combining marks, spells Greek
/// letters out in Spanish (`α` → `alfa`, `β` → `beta`, `µ` → `mu`), maps a few
/// English word forms to their Spanish spelling (`alpha` → `alfa`) and treats
/// whitespace, hyphens of every kind, slashes, dots, commas, brackets and symbols
/// such as `®` as word separators. The key is the words joined without
/// separators, so `Alfa-feto proteína`, `alfa feto proteína` and
/// `α-fetoproteína` all fold to `alfafetoproteina`.
public enum TermKey {
    /// Greek letters and look-alikes spelled out as Spanish words.
    static let greek: [Unicode.Scalar: String] = [
        "α": "alfa", "β": "beta", "ϐ": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon",
        "ϵ": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa",
        "ϰ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron",
        "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
        "φ": "fi", "ϕ": "fi", "χ": "ji", "ψ": "psi", "ω": "omega",
    ]
    /// Whole-word spelling variants folded to one form.
    static let wordVariants: [String: String] = [
        "alpha": "alfa", "kapa": "kappa", "cappa": "kappa", "gama": "gamma",
    ]

    /// The words of `text` after folding, in order.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty {
                let word = String(current)
                words.append(wordVariants[word] ?? word)
                current = String.UnicodeScalarView()
            }
        }
        for scalar in text.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            if let spelled = greek[scalar] {
                current.append(contentsOf: spelled.unicodeScalars)
                continue
            }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark:
                continue
            case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .otherLetter, .modifierLetter,
                .decimalNumber, .otherNumber, .letterNumber:
                current.append(scalar)
            default:
                flush()
            }
        }
        flush()
        return words
    }

    /// The lexicon key of `text`: its folded words joined without separators.
    public static func key(_ text: String) -> String {
        words(text).joined()
    }

    /// The digits of a key, in order: edits that change them change the concept
    /// (`B14` is not `B12`), so approximate matching keeps them equal.
    static func digits(_ scalars: [UInt32]) -> [UInt32] {
        scalars.filter { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// For each scalar of `key(text)`, whether it lies in a short word: three letters or fewer,
    /// or a Roman numeral. Such words carry the identity of the concept (`factor VIII`,
    /// `vitamina C`, `troponina I`, `anti-VHC`), so approximate matches must not edit them.
    public static func protectedPositions(_ text: String) -> [Bool] {
        var out: [Bool] = []
        for word in words(text) {
            out.append(contentsOf: repeatElement(isShort(word), count: word.unicodeScalars.count))
        }
        return out
    }

    /// Function words that never carry a concept's identity.
    static let functionWords: Set<String> = [
        "de", "del", "la", "las", "el", "los", "y", "e", "o", "u", "en", "con", "por", "al", "a", "para", "sin", "of", "the", "and",
    ]

    static func isShort(_ word: String) -> Bool {
        if functionWords.contains(word) { return false }
        return word.unicodeScalars.count <= 3 || word.allSatisfy { "ivxl".contains($0) }
    }

    /// The short words of `text` (see `protectedPositions`), folded.
    public static func shortWords(_ text: String) -> [String] {
        words(text).filter(isShort)
    }
}
