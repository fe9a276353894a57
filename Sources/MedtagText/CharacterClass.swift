/// Coarse character classes the tokenizer works with.
enum CharacterClass: Equatable {
    case letter, digit, mark, space, newline, other

    init(_ scalar: Unicode.Scalar) {
        let p = scalar.properties
        switch p.generalCategory {
        case .decimalNumber:
            self = .digit
        case .nonspacingMark, .spacingMark, .enclosingMark:
            self = .mark
        case .lineSeparator, .paragraphSeparator:
            self = .newline
        default:
            if scalar == "\n" || scalar == "\r" || scalar == "\u{0B}" || scalar == "\u{0C}" || scalar == "\u{85}" {
                self = .newline
            } else if p.isWhitespace {
                self = .space
            } else if p.isAlphabetic {
                self = .letter
            } else {
                self = .other
            }
        }
    }

    /// Letters, digits and combining marks make up words.
    var isWordPart: Bool { self == .letter || self == .digit || self == .mark }
    var isSpace: Bool { self == .space || self == .newline }
}

extension Unicode.Scalar {
    var isUppercaseLetter: Bool { properties.isUppercase }
}
