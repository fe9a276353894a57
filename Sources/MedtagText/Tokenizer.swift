/// Splits clinical text into sentences and tokens with exact code-point offsets.
///
/// Words keep their decimals (`0,5`, `2.5`); hyphens are tokens of their own (`S-100` → `S` `-`
/// `100`) unless the rules list joining hyphens;
/// abbreviations from the rule table keep their dots; a number written against a unit is split
/// from it (`5mg` → `5` `mg`); other punctuation is a token of its own. A sentence ends at a line
/// break, or at `.`, `!`, `?` followed by something that can open a sentence.
public struct Tokenizer: DocumentComponent {
    /// Changes whenever the same text could tokenize differently; models record it.
    public static let version = "medtag-tokenizer-2"

    public let rules: TokenizerRules
    private let maxAbbreviationLength: Int
    private let multiWordAbbreviations: [[Unicode.Scalar]]

    public var name: String { "tokenizer" }

    public init(rules: TokenizerRules = .spanish) {
        self.rules = rules
        self.maxAbbreviationLength = rules.abbreviations.map { $0.unicodeScalars.count }.max() ?? 0
        // "p." + "ej." form "p. ej.": recognised across one space so neither part ends a sentence.
        self.multiWordAbbreviations = [["p", ".", " ", "e", "j", "."], ["p", ".", " ", "e", "."]]
    }

    public func process(_ document: inout Document) {
        let (tokens, sentences) = analyze(document.scalars)
        document.tokens = tokens
        document.sentences = sentences
    }

    /// Tokens and sentences of a sequence of code points.
    public func analyze(_ scalars: [Unicode.Scalar]) -> (tokens: [Token], sentences: [Sentence]) {
        let classes = scalars.map(CharacterClass.init)
        var ranges: [(Int, Int)] = []
        var noBreakAfter = Set<Int>()  // token indices that never end a sentence (abbreviations)
        var i = 0
        let n = scalars.count
        while i < n {
            if classes[i].isSpace {
                i += 1
                continue
            }
            if let parts = multiWordAbbreviation(at: i, scalars, classes) {
                for part in parts {
                    noBreakAfter.insert(ranges.count)
                    ranges.append(part)
                }
                i = parts.last!.1
                continue
            }
            var j = i
            while j < n && !classes[j].isSpace { j += 1 }
            tokenizeChunk(i, j, scalars, classes, &ranges, &noBreakAfter)
            i = j
        }
        let tokens = ranges.map { r -> Token in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[r.0..<r.1])
            return Token(start: r.0, end: r.1, text: String(view))
        }
        return (tokens, splitSentences(tokens, scalars, classes, noBreakAfter))
    }

    // MARK: Tokens

    private func tokenizeChunk(
        _ s: Int, _ e: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass],
        _ out: inout [(Int, Int)], _ noBreakAfter: inout Set<Int>
    ) {
        var p = s
        while p < e {
            let atBoundary = p == s || !classes[p - 1].isWordPart
            if atBoundary, let length = abbreviationLength(at: p, end: e, scalars, classes) {
                noBreakAfter.insert(out.count)
                out.append((p, p + length))
                p += length
                continue
            }
            if atBoundary, let length = dottedAcronymLength(at: p, end: e, scalars, classes) {
                noBreakAfter.insert(out.count)
                out.append((p, p + length))
                p += length
                continue
            }
            if classes[p].isWordPart {
                let q = wordEnd(from: p, end: e, scalars, classes)
                if let split = numberUnitSplit(p, q, scalars, classes) {
                    out.append((p, split))
                    out.append((split, q))
                } else {
                    out.append((p, q))
                }
                p = q
                continue
            }
            out.append((p, p + 1))
            p += 1
        }
    }

    private func text(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        return String(view)
    }

    private func lowered(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> String {
        text(scalars, range).lowercased()
    }

    private func abbreviationLength(
        at p: Int, end e: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass]
    ) -> Int? {
        let longest = min(maxAbbreviationLength, e - p)
        guard longest >= 2 else { return nil }
        for length in stride(from: longest, through: 2, by: -1) {
            let after = p + length
            if after < e && classes[after].isWordPart { continue }
            // The last character must not be a word part followed by a joining hyphen ("aprox-…").
            if rules.abbreviations.contains(lowered(scalars, p..<after)) { return length }
        }
        return nil
    }

    /// Single letters each followed by a dot, at least twice: `A.I.N.E.`, `i.v.`, `E.E.U.U.`.
    private func dottedAcronymLength(
        at p: Int, end e: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass]
    ) -> Int? {
        var q = p
        var pairs = 0
        while q + 1 < e && classes[q] == .letter && scalars[q + 1] == "." {
            q += 2
            pairs += 1
            if q < e && classes[q] == .letter && (q + 1 >= e || scalars[q + 1] != ".") { return nil }
        }
        guard pairs >= 2 else { return nil }
        if q < e && classes[q].isWordPart { return nil }
        return q - p
    }

    private func multiWordAbbreviation(
        at p: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass]
    ) -> [(Int, Int)]? {
        if p > 0 && classes[p - 1].isWordPart { return nil }
        outer: for pattern in multiWordAbbreviations {
            guard p + pattern.count <= scalars.count else { continue }
            for (k, expected) in pattern.enumerated() {
                let actual = scalars[p + k]
                if expected == " " {
                    if classes[p + k] != .space { continue outer }
                } else if actual.properties.lowercaseMapping != String(expected) {
                    continue outer
                }
            }
            let end = p + pattern.count
            if end < scalars.count && classes[end].isWordPart { continue }
            let space = pattern.firstIndex(of: " ")!
            return [(p, p + space), (p + space + 1, end)]
        }
        return nil
    }

    private func wordEnd(
        from p: Int, end e: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass]
    ) -> Int {
        var q = p
        var partStart = p  // start of the current letters-and-digits run, for unit slashes
        while q < e {
            if classes[q].isWordPart {
                q += 1
                continue
            }
            let c = scalars[q]
            guard q > p, q + 1 < e, classes[q - 1].isWordPart, classes[q + 1].isWordPart else { break }
            if rules.decimalSeparators.contains(c) && classes[q - 1] == .digit && classes[q + 1] == .digit {
                q += 1
                continue
            }
            if rules.joiningHyphens.contains(c) {
                q += 1
                partStart = q
                continue
            }
            if c == "/" {
                var r = q + 1
                while r < e && classes[r].isWordPart { r += 1 }
                let before = unitPart(scalars, partStart..<q, classes)
                if rules.units.contains(before) && rules.units.contains(text(scalars, (q + 1)..<r)) {
                    q += 1
                    partStart = q
                    continue
                }
            }
            break
        }
        return q
    }

    /// The letters at the end of a run (`5mg` → `mg`), for unit checks.
    private func unitPart(_ scalars: [Unicode.Scalar], _ range: Range<Int>, _ classes: [CharacterClass]) -> String {
        var s = range.lowerBound
        while s < range.upperBound && (classes[s] == .digit || rules.decimalSeparators.contains(scalars[s])) { s += 1 }
        return text(scalars, s..<range.upperBound)
    }

    /// Where a number ends and a unit begins inside one word (`5mg`, `0,5mg/kg`), if it is one.
    private func numberUnitSplit(
        _ p: Int, _ q: Int, _ scalars: [Unicode.Scalar], _ classes: [CharacterClass]
    ) -> Int? {
        guard classes[p] == .digit else { return nil }
        var s = p
        while s < q && (classes[s] == .digit || (rules.decimalSeparators.contains(scalars[s]) && s + 1 < q && classes[s + 1] == .digit)) {
            s += 1
        }
        guard s < q, classes[s] == .letter else { return nil }
        let unit = text(scalars, s..<q)
        let parts = unit.split(separator: "/", omittingEmptySubsequences: false)
        return parts.allSatisfy({ rules.units.contains(String($0)) }) ? s : nil
    }

    // MARK: Sentences

    private func splitSentences(
        _ tokens: [Token], _ scalars: [Unicode.Scalar], _ classes: [CharacterClass], _ noBreakAfter: Set<Int>
    ) -> [Sentence] {
        var sentences: [Sentence] = []
        var first = 0
        for t in tokens.indices {
            let isLast = t == tokens.count - 1
            var boundary = isLast
            if !isLast {
                let next = tokens[t + 1]
                if classes[tokens[t].end..<next.start].contains(.newline) {
                    boundary = true
                } else if !noBreakAfter.contains(t), tokens[t].end - tokens[t].start == 1,
                    rules.sentenceEnders.contains(scalars[tokens[t].start])
                {
                    let opener = scalars[next.start]
                    boundary =
                        opener.isUppercaseLetter || classes[next.start] == .digit
                        || rules.sentenceOpeners.contains(opener)
                }
            }
            if boundary {
                sentences.append(Sentence(start: tokens[first].start, end: tokens[t].end, tokens: first..<(t + 1)))
                first = t + 1
            }
        }
        return sentences
    }
}
