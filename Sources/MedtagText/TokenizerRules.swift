/// The language-specific tables the tokenizer and sentence splitter follow.
///
/// Rules are data: adding an abbreviation or a unit is a one-line change in a table below.
public struct TokenizerRules: Sendable, Hashable {
    /// Language code these rules are for.
    public var language: String
    /// Abbreviations kept as one token with their dots, lower-cased (`dr.`, `aprox.`, `i.v.`).
    /// A multi-word abbreviation (`p. ej.`) is listed by its parts (`p.`, `ej.`).
    public var abbreviations: Set<String>
    /// Units split from a number written against them (`5mg` → `5` `mg`) and joined across a
    /// slash (`mg/dl`, `ml/min`). Case matters: `3H` (tritium) and `3D` are not units.
    public var units: Set<String>
    /// Hyphens that join word parts into one token. Empty by default: in clinical text a hyphen
    /// as often links two mentions (`lisinopril-hidroclorotiazida`, `AE1-AE3`, `Ca-P`) as it sits
    /// inside one (`S-100`, `Alfa-Feto-Proteina`), so it is a token of its own and a mention's
    /// edges always fall on token boundaries.
    public var joiningHyphens: Set<Unicode.Scalar>
    /// Characters that separate decimals inside a number (`0,5`, `2.5`).
    public var decimalSeparators: Set<Unicode.Scalar>
    /// Punctuation that may end a sentence.
    public var sentenceEnders: Set<Unicode.Scalar>
    /// Characters that may open a sentence besides upper-case letters and digits.
    public var sentenceOpeners: Set<Unicode.Scalar>

    public init(
        language: String, abbreviations: Set<String>, units: Set<String>,
        joiningHyphens: Set<Unicode.Scalar> = [],
        decimalSeparators: Set<Unicode.Scalar> = [",", "."],
        sentenceEnders: Set<Unicode.Scalar> = [".", "!", "?", "\u{2026}"],
        sentenceOpeners: Set<Unicode.Scalar> = ["¿", "¡", "(", "[", "\"", "'", "«", "\u{201C}", "-", "\u{2022}"]
    ) {
        self.language = language
        self.abbreviations = abbreviations
        self.units = units
        self.joiningHyphens = joiningHyphens
        self.decimalSeparators = decimalSeparators
        self.sentenceEnders = sentenceEnders
        self.sentenceOpeners = sentenceOpeners
    }

    /// The rules for a language code; Spanish for anything unknown.
    public static func forLanguage(_ code: String) -> TokenizerRules {
        code.lowercased().hasPrefix("en") ? .english : .spanish
    }
}

extension TokenizerRules {
    /// Units common to clinical text in both languages.
    static let clinicalUnits: Set<String> = [
        "mg", "g", "kg", "Kg", "µg", "μg", "mcg", "ug", "ng", "pg", "mmol", "mol", "µmol", "μmol", "nmol", "pmol",
        "mEq", "meq", "mequiv", "ml", "mL", "l", "L", "dl", "dL", "cl", "µl", "μl", "µL", "μL", "mm", "cm", "m", "µm",
        "μm", "nm", "mmHg", "mmhg", "cmH2O", "UI", "ui", "IU", "U", "mU", "mUI", "kcal", "Kcal", "cal", "h", "hr", "hrs",
        "min", "seg", "s", "sec", "d", "día", "dia", "días", "dias", "sem", "año", "años", "mes", "meses", "lpm", "rpm",
        "x", "gr", "Gy", "cGy", "mCi", "Bq", "MBq", "kBq", "mOsm", "Hz", "mV", "m2", "%",
    ]

    /// Spanish clinical text (PharmaCoNER, SciELO case reports).
    public static let spanish = TokenizerRules(
        language: "es",
        abbreviations: [
            "dr.", "dra.", "drs.", "sr.", "sra.", "srta.", "prof.", "dña.",
            "aprox.", "approx.", "p.", "ej.", "p.ej.", "etc.", "vs.", "cols.", "col.", "fig.", "figs.", "pág.",
            "págs.", "vol.", "núm.", "nº.", "n.º", "cap.", "ed.", "eds.", "tel.", "hosp.", "sto.", "sta.",
            "i.v.", "i.m.", "s.c.", "v.o.", "p.o.", "c/", "q.d.", "b.i.d.", "t.i.d.", "q.i.d.", "h.s.", "s.o.s.",
            "máx.", "mín.", "max.", "min.", "aprox", "art.", "cf.", "ca.", "ej", "dcha.", "izda.", "izq.",
            "der.", "sup.", "inf.", "ant.", "post.", "lat.", "med.", "adm.", "ud.", "uds.", "núms.",
            "a.c.", "d.c.", "e.e.u.u.", "ee.uu.", "u.c.i.", "a.i.n.e.", "a.i.n.e.s.",
        ],
        units: clinicalUnits
    )

    /// English biomedical text (PubMed abstracts).
    public static let english = TokenizerRules(
        language: "en",
        abbreviations: [
            "dr.", "mr.", "mrs.", "ms.", "prof.", "e.g.", "i.e.", "et", "al.", "etc.", "vs.", "fig.", "figs.",
            "approx.", "no.", "vol.", "ref.", "refs.", "i.v.", "i.m.", "s.c.", "p.o.", "q.d.", "b.i.d.",
            "t.i.d.", "q.i.d.", "u.s.", "u.k.", "ca.", "cf.", "resp.", "jan.", "feb.", "mar.", "apr.",
            "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.", "inc.", "ltd.", "co.", "st.",
        ],
        units: clinicalUnits,
        decimalSeparators: ["."],
        sentenceOpeners: ["(", "[", "\"", "'", "\u{201C}", "-", "\u{2022}"]
    )
}
