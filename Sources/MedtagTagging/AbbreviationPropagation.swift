import MedtagText

/// Abbreviations defined in the text: a short form given in parentheses after its long form,
/// `atrial fibrillation (AF)`, gets the long form's label, and so does every later untagged
/// occurrence of the short form in the same document (whole tokens, same case).
///
/// Biomedical abstracts define a short form once and then use it alone, where a sequence tagger
/// that sees one sentence at a time has little context to go on. Definitions are found as
/// Schwartz and Hearst (2003) find them (see ``definitions(in:)``). A short form takes the label of
/// the mention that covers its long form or ends where it ends; a short form the tagger marked
/// keeps its own label; an untagged long form stays untagged (giving it the short form's label did
/// not help on BC5CDR). Occurrences before the definition, and places inside or overlapping a
/// mention, are left alone. Runs after the tagger, before the normalizer. Existing mentions are
/// never changed or removed.
public struct AbbreviationPropagation: DocumentComponent {
    /// A short form defined in a sentence, as token ranges of ``Document/tokens``.
    public struct Definition: Hashable, Sendable {
        /// The tokens of the short form, such as `AF`.
        public var shortForm: Range<Int>
        /// The tokens of the long form, such as `atrial fibrillation`.
        public var longForm: Range<Int>

        public init(shortForm: Range<Int>, longForm: Range<Int>) {
            self.shortForm = shortForm
            self.longForm = longForm
        }
    }

    public var name: String { "abbreviations" }

    public init() {}

    public func process(_ document: inout Document) throws {
        guard !document.entities.isEmpty else { return }
        let definitions = Self.definitions(in: document)
        guard !definitions.isEmpty else { return }
        var covered = [Bool](repeating: false, count: document.scalars.count)
        for entity in document.entities {
            for i in entity.start..<entity.end { covered[i] = true }
        }
        var mentions = document.entities
        var added: [Entity] = []
        func add(_ label: String, _ start: Int, _ end: Int) {
            let entity = Entity(
                id: "", label: label, start: start, end: end, text: document.text(from: start, to: end),
                sentence: document.sentenceIndex(containing: start))
            added.append(entity)
            mentions.append(entity)
            for i in start..<end { covered[i] = true }
        }

        // Each definition's label, in document order: the short form's own mention, else the mention
        // covering the long form or ending where it ends (the longest).
        var defined: [(shortForm: Range<Int>, text: String, label: String)] = []
        for definition in definitions {
            let (shortStart, shortEnd) = Self.offsets(of: definition.shortForm, in: document)
            let (longStart, longEnd) = Self.offsets(of: definition.longForm, in: document)
            let label: String
            if let own = mentions.first(where: { $0.start == shortStart && $0.end == shortEnd }) {
                label = own.label
            } else if covered[shortStart..<shortEnd].contains(true) {
                continue
            } else if let long = mentions.filter({
                ($0.end == longEnd && $0.start < longEnd) || ($0.start <= longStart && $0.end >= longEnd)
            }).max(by: { $0.end - $0.start < $1.end - $1.start }) {
                label = long.label
                add(label, shortStart, shortEnd)
            } else {
                continue
            }
            defined.append((definition.shortForm, document.text(from: shortStart, to: shortEnd), label))
        }

        // Later occurrences of each short form, up to its next definition.
        var placesOf: [String: [Int]] = [:]
        for (k, token) in document.tokens.enumerated() { placesOf[token.text, default: []].append(k) }
        let sentenceOf = Self.sentenceOfToken(document)
        for (n, definition) in defined.enumerated() {
            let words = document.tokens[definition.shortForm].map(\.text)
            let after = definition.shortForm.upperBound
            let before = defined[(n + 1)...].first { $0.text == definition.text }?.shortForm.lowerBound ?? document.tokens.count
            for k in placesOf[words[0]] ?? [] where k >= after && k + words.count <= before {
                let last = k + words.count - 1
                guard sentenceOf[k] == sentenceOf[last],
                    zip(document.tokens[k...last], words).allSatisfy({ pair in pair.0.text == pair.1 })
                else { continue }
                let start = document.tokens[k].start
                let end = document.tokens[last].end
                guard document.text(from: start, to: end) == definition.text, !covered[start..<end].contains(true) else { continue }
                add(definition.label, start, end)
            }
        }
        guard !added.isEmpty else { return }
        var entities = document.entities + added
        entities.sort { ($0.start, $1.end) < ($1.start, $0.end) }
        for k in entities.indices { entities[k].id = "T\(k + 1)" }
        document.entities = entities
    }

    /// The short forms defined in each sentence, in document order.
    ///
    /// `LONG FORM ( SF )`, after Schwartz and Hearst (2003): the short form is the text between the
    /// parentheses up to a `,` or `;`, 2 to 10 characters, one or two words, beginning with a letter.
    /// The long form is the shortest run of words before the parenthesis, at most
    /// min(|SF| + 5, 2·|SF|) words, whose characters hold the short form's letters and digits in order,
    /// the first of them at the start of a word, case aside. `SF ( LONG FORM )` is read only when
    /// simple: one word before the parenthesis that is a valid short form, a parenthesis that is not,
    /// and a long form that is the whole of it and begins with the short form's first letter.
    public static func definitions(in document: Document) -> [Definition] {
        var found: [Definition] = []
        for sentence in document.sentences {
            let range = sentence.tokens
            var open = range.lowerBound
            while open < range.upperBound {
                defer { open += 1 }
                guard document.tokens[open].text == "(", open > range.lowerBound else { continue }
                // The matching `)`, with no `(` in between.
                var close = open + 1
                while close < range.upperBound, document.tokens[close].text != ")", document.tokens[close].text != "(" { close += 1 }
                guard close < range.upperBound, document.tokens[close].text == ")", close > open + 1 else { continue }
                var inner = open + 1
                while inner < close, document.tokens[inner].text != ",", document.tokens[inner].text != ";" { inner += 1 }
                guard inner > open + 1 else { continue }
                let inside = (open + 1)..<inner
                let insideText = text(of: inside, in: document)
                if isShortForm(insideText) {
                    if let long = longForm(for: insideText, before: open, from: range.lowerBound, in: document) {
                        found.append(Definition(shortForm: inside, longForm: long))
                    }
                    continue
                }
                // The simple reverse case: one word before the parenthesis, its long form inside.
                let word = open - 1
                let startsWord = word == range.lowerBound || document.tokens[word - 1].end < document.tokens[word].start
                let shortText = document.tokens[word].text
                guard startsWord, isShortForm(shortText),
                    wordCount(of: inside, in: document) <= maximumWords(shortText),
                    let long = longForm(for: shortText, before: inner, from: open + 1, in: document),
                    long.lowerBound == open + 1
                else { continue }
                found.append(Definition(shortForm: word..<open, longForm: long))
            }
        }
        return found
    }

    /// Whether a string can be a short form: 2 to 10 characters, at most one space, a letter first.
    static func isShortForm(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        return (2...10).contains(scalars.count) && scalars[0].properties.isAlphabetic
            && scalars.filter { $0.properties.isWhitespace }.count <= 1
    }

    /// Most words a long form of `shortForm` may have.
    static func maximumWords(_ shortForm: String) -> Int {
        let length = shortForm.unicodeScalars.count
        return min(length + 5, 2 * length)
    }

    /// The long form of `shortForm` among the words that end at token `end` (exclusive) and begin no
    /// earlier than token `first`, as a token range; nil when none matches.
    static func longForm(for shortForm: String, before end: Int, from first: Int, in document: Document) -> Range<Int>? {
        guard end > first else { return nil }
        // The candidate: at most `maximumWords` words (runs of tokens without space between them).
        let limit = maximumWords(shortForm)
        var start = end - 1
        var words = 1
        while start > first {
            if document.tokens[start - 1].end < document.tokens[start].start {
                if words == limit { break }
                words += 1
            }
            start -= 1
        }
        let base = document.tokens[start].start
        let candidate = Array(document.scalars[base..<document.tokens[end - 1].end])
        let short = Array(shortForm.unicodeScalars)
        // Schwartz and Hearst's match, from the end of both strings.
        var s = short.count - 1
        var l = candidate.count - 1
        while s >= 0 {
            let c = short[s]
            guard isLetterOrDigit(c) else {
                s -= 1
                continue
            }
            while l >= 0 && (!sameLetter(candidate[l], c) || (s == 0 && l > 0 && isLetterOrDigit(candidate[l - 1]))) { l -= 1 }
            guard l >= 0 else { return nil }
            l -= 1
            s -= 1
        }
        // Back to the start of the word holding the first matched character.
        while l >= 0 && !candidate[l].properties.isWhitespace { l -= 1 }
        let longStart = base + l + 1
        guard let from = (start..<end).first(where: { document.tokens[$0].start == longStart }) else { return nil }
        let longText = text(of: from..<end, in: document)
        guard longText.unicodeScalars.count >= short.count, !longText.contains(shortForm) else { return nil }
        return from..<end
    }

    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    static func sameLetter(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a == b || a.properties.lowercaseMapping == b.properties.lowercaseMapping
    }

    static func wordCount(of tokens: Range<Int>, in document: Document) -> Int {
        guard !tokens.isEmpty else { return 0 }
        return 1 + (tokens.lowerBound + 1..<tokens.upperBound).filter { document.tokens[$0 - 1].end < document.tokens[$0].start }.count
    }

    static func offsets(of tokens: Range<Int>, in document: Document) -> (Int, Int) {
        (document.tokens[tokens.lowerBound].start, document.tokens[tokens.upperBound - 1].end)
    }

    static func text(of tokens: Range<Int>, in document: Document) -> String {
        let (start, end) = offsets(of: tokens, in: document)
        return document.text(from: start, to: end)
    }

    /// The sentence of each token.
    static func sentenceOfToken(_ document: Document) -> [Int] {
        var result = [Int](repeating: -1, count: document.tokens.count)
        for (s, sentence) in document.sentences.enumerated() {
            for k in sentence.tokens { result[k] = s }
        }
        return result
    }
}
