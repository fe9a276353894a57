import Foundation

/// How a mention got its code: the cascade step that decided it.
public enum MatchMethod: String, Sendable, CaseIterable, Codable {
    /// Same key as a lexicon entry after folding (case, accents, spaces, hyphens, Greek letters).
    case exact
    /// An abbreviation (whole mention or a word of it) expanded, then matched exactly.
    case abbreviation
    /// A brand name mapped to its active substance, then matched exactly.
    case brand
    /// Within the bounded edit distance of a lexicon key.
    case levenshtein
    /// Character-trigram similarity at or above the acceptance threshold, same digits, and every
    /// short word of the mention (`VIII`, `C`, `TPO`) present in the candidate.
    case fuzzy
    /// Best candidate below the fuzzy threshold: code `<null>`, candidate kept in `term` for review.
    case fuzzyRejected = "fuzzy-rejected"
    /// The label is one the guidelines leave unnormalized (NO_NORMALIZABLES).
    case label
    /// A known name (name list) with no code in the lexicon: `<null>` rather than a neighbour's code.
    case uncodedName = "uncoded-name"
    /// Nothing matched.
    case none
}

/// The code chosen for a mention.
public struct ConceptMatch: Sendable, Hashable {
    /// The concept id, or `<null>`.
    public var code: String
    /// The term of the code; for `fuzzy-rejected`, the rejected candidate as `term [code]`.
    public var term: String?
    /// The cascade step that decided.
    public var method: MatchMethod
    /// Confidence in [0, 1]: 1 for exact, 1 − d/length for Levenshtein, similarity for fuzzy.
    public var score: Double?

    /// The code for "no concept".
    public static let nullCode = "<null>"
}

/// Settings of the matching cascade.
public struct NormalizerOptions: Sendable, Hashable {
    /// Levenshtein bound: distance ≤ max(1, ratio × key length).
    public var levenshteinRatio: Double = 0.2
    /// Keys shorter than this skip the Levenshtein step (acronyms a letter apart are different things).
    public var levenshteinMinimumLength: Int = 6
    /// Trigram Dice similarity needed to accept a fuzzy match.
    public var fuzzyThreshold: Double = 0.8
    /// Candidates at or above this (but under the threshold) are kept for review as `fuzzy-rejected`.
    public var fuzzyReviewFloor: Double = 0.5
    /// Keys shorter than this skip the fuzzy step.
    public var fuzzyMinimumLength: Int = 5
    /// Labels that always get `<null>` (the guidelines give them no code).
    public var nullLabels: Set<String> = ["NO_NORMALIZABLES"]
    /// What a known name without a code (a name-list entry) may still go through.
    public enum UncodedNamePolicy: String, Sendable, Hashable, CaseIterable {
        /// `<null>` at once: no approximate step.
        case stop
        /// The Levenshtein step only (a corpus spelling variant of the same name), then `<null>`.
        case levenshteinOnly = "levenshtein-only"
        /// Every step, as for unknown strings.
        case ignore
    }
    /// How known names without a code are treated.
    public var uncodedNames: UncodedNamePolicy = .levenshteinOnly
    /// Run the abbreviation and brand steps.
    public var useAbbreviations: Bool = true

    /// The defaults.
    public init() {}
}

/// The matching cascade: exact → abbreviation/brand → Levenshtein → fuzzy, label-aware,
/// with ambiguity resolved by corpus frequency. Precision first: an approximate
/// candidate that is not close enough yields `<null>`.
public struct ConceptNormalizer: Sendable {
    /// The lexicon searched.
    public let lexicon: Lexicon
    /// Short forms expanded before lookup.
    public let abbreviations: AbbreviationTable
    /// Cascade settings.
    public var options: NormalizerOptions

    /// A normalizer over `lexicon`.
    public init(lexicon: Lexicon, abbreviations: AbbreviationTable = AbbreviationTable(), options: NormalizerOptions = NormalizerOptions()) {
        self.lexicon = lexicon
        self.abbreviations = abbreviations
        self.options = options
    }

    /// Loads `<directory>/lexicon.json`, its lexicon file and its abbreviation table (if the manifest names one).
    public static func load(directory: URL, verify: Bool = true, options: NormalizerOptions = NormalizerOptions()) throws(LexiconError) -> ConceptNormalizer {
        let lexicon = try Lexicon.open(directory: directory, verify: verify)
        var table = AbbreviationTable()
        let manifestURL = directory.appendingPathComponent(LexiconFormat.manifestFileName)
        if let data = try? Data(contentsOf: manifestURL),
            let manifest = try? JSONDecoder().decode(LexiconManifest.self, from: data),
            let name = manifest.abbreviations
        {
            table = try AbbreviationTable(contentsOf: directory.appendingPathComponent(name))
        }
        return ConceptNormalizer(lexicon: lexicon, abbreviations: table, options: options)
    }

    private func sameKind(_ count: Int, _ protein: Int, label: String) -> Int {
        label == LexiconBuilder.proteinLabel ? protein : count - protein
    }

    /// The best coded posting of an entry for a label: same-kind corpus count, then
    /// total count, then RF2 preferred, then RF2, then code order.
    func bestPosting(entry: Int, label: String, allowNull: Bool) -> (posting: Posting, info: CodeInfo)? {
        var best: (posting: Posting, info: CodeInfo)?
        for p in lexicon.postings(entry: entry) {
            guard let c = p.code else { continue }
            let info = lexicon.code(at: c)
            if !allowNull && info.code == ConceptMatch.nullCode { continue }
            guard let current = best else {
                best = (p, info)
                continue
            }
            let a = (sameKind(p.count, p.proteinCount, label: label), p.count,
                     p.sources.contains(.rf2Preferred) ? 1 : 0, p.sources.contains(.rf2) ? 1 : 0)
            let b = (sameKind(current.posting.count, current.posting.proteinCount, label: label), current.posting.count,
                     current.posting.sources.contains(.rf2Preferred) ? 1 : 0, current.posting.sources.contains(.rf2) ? 1 : 0)
            if a > b { best = (p, info) }
        }
        return best
    }

    private func exact(_ text: String, label: String) -> (ConceptMatch?, uncoded: Bool) {
        let key = TermKey.key(text)
        guard let entry = lexicon.entry(forKey: key) else { return (nil, false) }
        if let (_, info) = bestPosting(entry: entry, label: label, allowNull: true) {
            let isNull = info.code == ConceptMatch.nullCode
            return (ConceptMatch(code: info.code, term: isNull ? nil : info.term, method: .exact, score: 1), false)
        }
        return (nil, true)
    }

    /// Normalizes one mention with its entity label.
    public func normalize(_ text: String, label: String) -> ConceptMatch {
        if options.nullLabels.contains(label) {
            return ConceptMatch(code: ConceptMatch.nullCode, term: nil, method: .label, score: nil)
        }
        // 1. exact
        let (exactMatch, uncoded) = exact(text, label: label)
        if let exactMatch { return exactMatch }
        // 2. abbreviations and brands, whole mention then abbreviated words
        if options.useAbbreviations {
            if let entry = abbreviations.entry(for: text) {
                for expansion in entry.expansions {
                    if var m = exact(expansion, label: label).0 {
                        m.method = entry.kind == .brand ? .brand : .abbreviation
                        return m
                    }
                }
            }
            for variant in abbreviations.wordVariants(of: text) {
                if var m = exact(variant, label: label).0 {
                    m.method = .abbreviation
                    return m
                }
            }
        }
        if uncoded && options.uncodedNames == .stop {
            return ConceptMatch(code: ConceptMatch.nullCode, term: nil, method: .uncodedName, score: nil)
        }
        let key = TermKey.key(text)
        let length = key.unicodeScalars.count
        // 3. bounded Levenshtein over the trigram index
        if length >= options.levenshteinMinimumLength {
            let bound = max(1, Int(options.levenshteinRatio * Double(length)))
            var best: (distance: Int, kind: Int, count: Int, info: CodeInfo)?
            let scalars = key.unicodeScalars.map(\.value)
            let protected = TermKey.protectedPositions(text)
            for (entry, distance) in lexicon.entries(near: key, maxDistance: bound) {
                let candidateKey = lexicon.key(at: entry).unicodeScalars.map(\.value)
                if EditDistance.editTouches(scalars, candidateKey, protected: protected) { continue }
                guard let (posting, info) = bestPosting(entry: entry, label: label, allowNull: false) else { continue }
                let candidate = (distance, sameKind(info.count, info.proteinCount, label: label), posting.count, info)
                if let b = best {
                    if (candidate.0, -candidate.1, -candidate.2) < (b.distance, -b.kind, -b.count) { best = candidate }
                } else {
                    best = candidate
                }
            }
            if let best {
                return ConceptMatch(code: best.info.code, term: best.info.term, method: .levenshtein,
                                    score: 1 - Double(best.distance) / Double(length))
            }
        }
        // 4. fuzzy character-trigram similarity
        if length >= options.fuzzyMinimumLength && !(uncoded && options.uncodedNames == .levenshteinOnly) {
            let digits = TermKey.digits(key.unicodeScalars.map(\.value))
            let shortWords = TermKey.shortWords(text)
            var best: (rank: Double, similarity: Double, digitsMatch: Bool, info: CodeInfo)?
            for (entry, similarity) in lexicon.entries(similarTo: key, minimum: options.fuzzyReviewFloor, limit: 20) {
                guard let (_, info) = bestPosting(entry: entry, label: label, allowNull: false) else { continue }
                let kindBonus = sameKind(info.count, info.proteinCount, label: label) > 0 ? 0.02 : 0
                let candidateKey = lexicon.key(at: entry)
                let digitsMatch = TermKey.digits(candidateKey.unicodeScalars.map(\.value)) == digits
                    && shortWords.allSatisfy { candidateKey.contains($0) }
                let rank = similarity + kindBonus
                if best == nil || rank > best!.rank { best = (rank, similarity, digitsMatch, info) }
            }
            if let best {
                if best.similarity >= options.fuzzyThreshold && best.digitsMatch {
                    return ConceptMatch(code: best.info.code, term: best.info.term, method: .fuzzy, score: best.similarity)
                }
                return ConceptMatch(code: ConceptMatch.nullCode, term: "\(best.info.term) [\(best.info.code)]",
                                    method: .fuzzyRejected, score: best.similarity)
            }
        }
        if uncoded {
            return ConceptMatch(code: ConceptMatch.nullCode, term: nil, method: .uncodedName, score: nil)
        }
        return ConceptMatch(code: ConceptMatch.nullCode, term: nil, method: .none, score: nil)
    }
}
