import MedtagModel
import MedtagTagging

/// Per-token inputs of the network. Each rule mirrors `training/features.py`; the two must agree
/// exactly, or the model sees different inputs from those it was trained on.
public struct TokenFeatures: Sendable {
    /// Longer tokens keep their first and last `maxChars / 2` code points.
    public static let maxChars = 40
    /// Number of ``casing(_:)`` classes.
    public static let casingClasses = 9
    /// An affix only counts when the token has at least this many more code points.
    public static let affixMinRest = 3
    /// The constants above as a model manifest records them.
    public static let constants = ModelManifest.FeatureConstants(
        maxChars: maxChars, casingClasses: casingClasses, affixMinRest: affixMinRest)

    /// Word vocabulary: keys from ``wordKey(_:)``, index 0 is the unknown word.
    public let words: [String: Int32]
    /// Character vocabulary: 0 is padding, 1 the unknown character.
    public let chars: [Unicode.Scalar: Int32]
    /// Lowercased gazetteer entries.
    public let gazetteer: Set<String>
    /// Lowercased affixes by kind.
    public let suffixes: [[Unicode.Scalar]]
    public let prefixes: [[Unicode.Scalar]]
    public let roots: [[Unicode.Scalar]]

    /// Builds the feature tables.
    public init(
        words: [String: Int32], chars: [Unicode.Scalar: Int32], gazetteer: Set<String>,
        affixes: [(kind: String, form: String)]
    ) {
        self.words = words
        self.chars = chars
        self.gazetteer = gazetteer
        func forms(_ kind: String) -> [[Unicode.Scalar]] {
            affixes.filter { $0.kind == kind }.map { Array($0.form.unicodeScalars) }
        }
        self.suffixes = forms("suffix")
        self.prefixes = forms("prefix")
        self.roots = forms("root")
    }

    /// Vocabulary key: lowercase, ASCII digits folded to `0`.
    public static func wordKey(_ token: String) -> String {
        var out = String.UnicodeScalarView()
        for s in token.lowercased().unicodeScalars {
            out.append(s.value >= 0x30 && s.value <= 0x39 ? "0" : s)
        }
        return String(out)
    }

    /// Code points fed to the character Bi-LSTM.
    public static func clippedScalars(_ token: String) -> [Unicode.Scalar] {
        let scalars = Array(token.unicodeScalars)
        guard scalars.count > maxChars else { return scalars }
        let half = maxChars / 2
        return Array(scalars[..<half] + scalars[(scalars.count - half)...])
    }

    /// 0 digits, 1 lower, 2 upper, 3 title, 4 mixed letters, 5 letters and digits, 6 letters and
    /// other characters, 7 digits and other characters, 8 neither letters nor digits.
    public static func casing(_ token: String) -> Int {
        var letters = 0
        var uppers = 0
        var digits = 0
        var others = 0
        var firstUpper = false
        for (k, s) in token.unicodeScalars.enumerated() {
            switch s.properties.generalCategory {
            case .uppercaseLetter:
                letters += 1
                uppers += 1
                if k == 0 { firstUpper = true }
            case .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                letters += 1
            case .decimalNumber:
                digits += 1
            default:
                others += 1
            }
        }
        if letters == 0 { return digits > 0 ? (others == 0 ? 0 : 7) : 8 }
        if digits > 0 { return 5 }
        if others > 0 { return 6 }
        if uppers == letters && letters >= 2 { return 2 }
        if uppers == 0 { return 1 }
        if firstUpper && uppers == 1 { return 3 }
        return 4
    }

    /// Gazetteer membership and suffix, prefix, root flags.
    public func flags(_ token: String) -> (Float, Float, Float, Float) {
        let lower = token.lowercased()
        let gaz: Float = gazetteer.contains(lower) ? 1 : 0
        let t = Array(lower.unicodeScalars)
        var suffix: Float = 0
        var prefix: Float = 0
        var root: Float = 0
        for form in suffixes where t.count >= form.count + Self.affixMinRest {
            if t[(t.count - form.count)...].elementsEqual(form) {
                suffix = 1
                break
            }
        }
        for form in prefixes where t.count >= form.count + Self.affixMinRest {
            if t[..<form.count].elementsEqual(form) {
                prefix = 1
                break
            }
        }
        for form in roots where t.count >= form.count + Self.affixMinRest {
            if Self.contains(t, form) {
                root = 1
                break
            }
        }
        return (gaz, suffix, prefix, root)
    }

    /// Character ids of a token (unknown characters map to 1).
    public func charIDs(_ token: String) -> [Int32] {
        Self.clippedScalars(token).map { chars[$0] ?? 1 }
    }

    /// Word id of a token (0 when unknown).
    public func wordID(_ token: String) -> Int32 {
        words[Self.wordKey(token)] ?? 0
    }

    private static func contains(_ t: [Unicode.Scalar], _ form: [Unicode.Scalar]) -> Bool {
        guard form.count <= t.count else { return false }
        for start in 0...(t.count - form.count) where t[start..<(start + form.count)].elementsEqual(form) {
            return true
        }
        return false
    }
}
