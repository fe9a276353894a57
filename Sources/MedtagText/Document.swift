/// A token: a view into a document's text by code-point offsets.
public struct Token: Hashable, Sendable {
    /// Code-point offset of the first character.
    public var start: Int
    /// Code-point offset one past the last character.
    public var end: Int
    /// The source text at `start..<end`.
    public var text: String

    public init(start: Int, end: Int, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

/// A sentence: a character range and the range of its tokens in ``Document/tokens``.
public struct Sentence: Hashable, Sendable {
    public var start: Int
    public var end: Int
    /// Indices into ``Document/tokens``.
    public var tokens: Range<Int>

    public init(start: Int, end: Int, tokens: Range<Int>) {
        self.start = start
        self.end = end
        self.tokens = tokens
    }
}

/// An entity mention with its label and, once normalized, its SNOMED-CT concept.
public struct Entity: Hashable, Sendable {
    /// BRAT id, such as `T1`.
    public var id: String
    /// Entity type, such as `NORMALIZABLES` or `PROTEINAS`.
    public var label: String
    /// Code-point offsets, half-open.
    public var start: Int
    public var end: Int
    /// The source text at `start..<end`.
    public var text: String
    /// SNOMED-CT concept id, `<null>` where none applies, `nil` when not normalized.
    public var code: String?
    /// Preferred term of `code`, when known.
    public var term: String?
    /// How `code` was found (exact, abbreviation, levenshtein, fuzzy, …).
    public var method: String?
    /// Confidence of the match in 0…1.
    public var score: Double?
    /// Index of the sentence holding the mention.
    public var sentence: Int?

    public init(
        id: String, label: String, start: Int, end: Int, text: String, code: String? = nil,
        term: String? = nil, method: String? = nil, score: Double? = nil, sentence: Int? = nil
    ) {
        self.id = id
        self.label = label
        self.start = start
        self.end = end
        self.text = text
        self.code = code
        self.term = term
        self.method = method
        self.score = score
        self.sentence = sentence
    }
}

/// A document flowing through the pipeline: text, then tokens and sentences, then entities.
///
/// Every offset is a Unicode code-point offset into ``text``, as BRAT and PharmaCoNER count them.
public struct Document: Sendable {
    public var id: String
    public let text: String
    /// The code points of ``text``; offsets index this array.
    public let scalars: [Unicode.Scalar]
    /// ISO 639-1 language code of the text (`es`, `en`).
    public var language: String
    public var sentences: [Sentence] = []
    public var tokens: [Token] = []
    public var entities: [Entity] = []

    public init(id: String, text: String, language: String = "es") {
        self.id = id
        self.text = text
        self.scalars = Array(text.unicodeScalars)
        self.language = language
    }

    /// A document of text that comes already split into sentences and tokens: its text is the
    /// tokens joined by single spaces, one sentence a line, and its tokens and sentences are those.
    public init(id: String, sentences: [[String]], language: String = "es") {
        var text = ""
        var tokens: [Token] = []
        var ranges: [Sentence] = []
        var offset = 0
        for (s, words) in sentences.enumerated() {
            if s > 0 {
                text += "\n"
                offset += 1
            }
            let start = offset
            let first = tokens.count
            for (k, word) in words.enumerated() {
                if k > 0 {
                    text += " "
                    offset += 1
                }
                let length = word.unicodeScalars.count
                tokens.append(Token(start: offset, end: offset + length, text: word))
                text += word
                offset += length
            }
            ranges.append(Sentence(start: start, end: offset, tokens: first..<tokens.count))
        }
        self.init(id: id, text: text, language: language)
        self.tokens = tokens
        self.sentences = ranges
    }

    /// The text between two code-point offsets.
    public func text(from start: Int, to end: Int) -> String {
        precondition(0 <= start && start <= end && end <= scalars.count, "offsets outside the text")
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }

    /// The tokens of one sentence.
    public func tokens(of sentence: Sentence) -> ArraySlice<Token> {
        tokens[sentence.tokens]
    }

    /// Index of the sentence containing a code-point offset, if any.
    public func sentenceIndex(containing offset: Int) -> Int? {
        var low = 0
        var high = sentences.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let s = sentences[mid]
            if offset < s.start {
                high = mid - 1
            } else if offset >= s.end {
                low = mid + 1
            } else {
                return mid
            }
        }
        return nil
    }
}

/// A pipeline step that does one thing to a document (tokenize, tag, normalize).
public protocol DocumentComponent: Sendable {
    /// Short name used in logs and timings.
    var name: String { get }
    /// Adds this component's annotations to the document.
    func process(_ document: inout Document) throws
}
