import MedtagText

/// What the entities of some documents hold: counts per label, per normalization outcome and per
/// distinct mention.
public struct EntityTally: Sendable, Equatable {
    /// One distinct mention with what the normalizer made of it.
    public struct Mention: Hashable, Sendable {
        public var text: String
        public var label: String
        /// The concept id, `<null>`, or nil when the mention was not normalized (no lexicon).
        public var code: String?
        public var term: String?
        public var method: String?
        /// The normalizer's score (for a rejected candidate, its similarity).
        public var score: Double?

        public init(text: String, label: String, code: String? = nil, term: String? = nil, method: String? = nil, score: Double? = nil) {
            self.text = text
            self.label = label
            self.code = code
            self.term = term
            self.method = method
            self.score = score
        }

        /// Whether a curator should look at it: no code, or `<null>` for any reason other than a
        /// label the guidelines leave uncoded.
        public var needsReview: Bool {
            guard let code else { return true }
            return code == RunSummary.nullCode && method != "label"
        }

        /// Why it has no code, in words a curator acts on (the normalizer's step names only say
        /// which step decided: `exact` there means the lexicon holds the mention as `<null>`).
        /// Nil for a mention with a code.
        public var reasonWithoutCode: String? {
            guard let code else { return "not normalized: no lexicon for its language" }
            guard code == RunSummary.nullCode else { return nil }
            switch method {
            case "none": return "no lexicon entry, and none close enough"
            case "exact": return "in the lexicon without a code (<null> in the annotated corpus)"
            case "abbreviation": return "its expansion is in the lexicon without a code (<null>)"
            case "brand": return "its substance is in the lexicon without a code (<null>)"
            case "fuzzy-rejected":
                let similarity = score.map { " (similarity \(CSVTable.formatScore($0)))" } ?? ""
                return "closest candidate rejected\(similarity)"
            case "uncoded-name": return "a known name with no code in the lexicon (name list)"
            case "label": return "label the guidelines leave uncoded"
            case let other?: return "<null> (\(other))"
            case nil: return "<null>"
            }
        }
    }

    /// Entities counted.
    public private(set) var total = 0
    /// Entities per label.
    public private(set) var labels: [String: Int] = [:]
    /// Entities per normalization outcome (see ``outcome(of:)``).
    public private(set) var methods: [String: Int] = [:]
    /// Occurrences of each distinct mention.
    public private(set) var mentions: [Mention: Int] = [:]

    public init() {}

    /// The bar an entity counts in on the normalization chart: the method that found its code
    /// (exact, abbreviation, brand, levenshtein, fuzzy), `<null>`, or `no code` when it was not normalized.
    public static func outcome(of entity: Entity) -> String {
        guard let code = entity.code, !code.isEmpty else { return RunSummary.noCode }
        if code == RunSummary.nullCode { return RunSummary.nullCode }
        return entity.method ?? "exact"
    }

    /// Counts some entities.
    public mutating func add(_ entities: some Sequence<Entity>) {
        for entity in entities {
            total += 1
            labels[entity.label, default: 0] += 1
            methods[Self.outcome(of: entity), default: 0] += 1
            let code = entity.code.flatMap { $0.isEmpty ? nil : $0 }
            let mention = Mention(text: entity.text, label: entity.label, code: code, term: entity.term, method: entity.method, score: entity.score)
            mentions[mention, default: 0] += 1
        }
    }

    /// Adds the counts of another tally.
    public mutating func add(_ other: EntityTally) {
        total += other.total
        labels.merge(other.labels, uniquingKeysWith: +)
        methods.merge(other.methods, uniquingKeysWith: +)
        mentions.merge(other.mentions, uniquingKeysWith: +)
    }

    /// The `limit` most frequent mentions that have a concept id, most frequent first.
    public func mostFrequent(_ limit: Int) -> [(mention: Mention, count: Int)] {
        ranked(mentions.filter { $0.key.code.map { $0 != RunSummary.nullCode } ?? false }, limit)
    }

    /// The `limit` most frequent mentions left without a code, most frequent first.
    public func withoutCode(_ limit: Int) -> [(mention: Mention, count: Int)] {
        ranked(mentions.filter { $0.key.needsReview }, limit)
    }

    /// Occurrences and distinct mentions left without a code.
    public var withoutCodeCount: (occurrences: Int, distinct: Int) {
        let review = mentions.filter { $0.key.needsReview }
        return (review.values.reduce(0, +), review.count)
    }

    private func ranked(_ mentions: [Mention: Int], _ limit: Int) -> [(mention: Mention, count: Int)] {
        mentions.sorted { a, b in
            if a.value != b.value { return a.value > b.value }
            if a.key.text != b.key.text { return a.key.text < b.key.text }
            if a.key.label != b.key.label { return a.key.label < b.key.label }
            return (a.key.code ?? "") < (b.key.code ?? "")
        }.prefix(limit).map { ($0.key, $0.value) }
    }
}

/// The figures of a summary page: what one run (an input, or every input of an ingest run) read,
/// annotated and refused, and what it found. Documents are added one at a time as they finish.
///
/// Long lists are capped (``listLimit``) so a run of a million documents keeps a small summary;
/// the counts always cover everything.
public struct RunSummary: Sendable, Equatable {
    /// An annotated document and links to its result files.
    public struct DocumentRow: Sendable, Equatable {
        /// Path of the document inside the run (also the link text).
        public var path: String
        public var tokens: Int
        public var entities: Int
        public var language: String?
        public var model: String?
        /// Result files, relative to the page.
        public var files: [String]
        /// Why it yielded no entity, when it did not.
        public var note: String?

        public init(
            path: String, tokens: Int, entities: Int, language: String? = nil, model: String? = nil, files: [String] = [],
            note: String? = nil
        ) {
            self.path = path
            self.tokens = tokens
            self.entities = entities
            self.language = language
            self.model = model
            self.files = files
            self.note = note
        }
    }

    /// A document or input that was not annotated, and why.
    public struct Refusal: Sendable, Equatable {
        public var path: String
        public var reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// A link to a file, relative to the page.
    public struct Link: Sendable, Equatable {
        public var title: String
        public var href: String
        public init(title: String, href: String) {
            self.title = title
            self.href = href
        }
    }

    /// The code of a mention the normalizer found no concept for.
    public static let nullCode = "<null>"
    /// The normalization bar of mentions that were not normalized at all.
    public static let noCode = "no code"

    /// What the page is about: the input's name, or the run's.
    public var title: String
    /// When the run ended, as the caller wants it shown (ISO 8601).
    public var finished: String?
    /// Wall-clock seconds the run took.
    public var seconds: Double?
    /// Tokens of the annotated documents.
    public private(set) var tokens = 0
    public private(set) var documentsAnnotated = 0
    public private(set) var documentsRefused = 0
    /// Documents seen: annotated plus refused.
    public var documentsRead: Int { documentsAnnotated + documentsRefused }
    /// The first ``listLimit`` annotated documents.
    public private(set) var documents: [DocumentRow] = []
    /// The first ``listLimit`` refusals.
    public private(set) var refused: [Refusal] = []
    /// Documents per model, language and lexicon.
    public private(set) var models: [String: Int] = [:]
    public private(set) var languages: [String: Int] = [:]
    public private(set) var lexicons: [String: Int] = [:]
    /// The entities of every annotated document.
    public private(set) var entities = EntityTally()
    /// Tables covering the whole run (one CSV of every entity) or other summaries (an ingest run's inputs).
    public var links: [Link] = []
    /// Notes for the reader (no lexicon installed, …), each once.
    public private(set) var notes: [String] = []
    /// How many documents and refusals are listed one by one.
    public var listLimit: Int

    public init(title: String, listLimit: Int = 2_000) {
        self.title = title
        self.listLimit = listLimit
    }

    /// Counts an annotated document: its row, its entities, and its lexicon (nil: none).
    public mutating func add(_ row: DocumentRow, entities found: EntityTally, lexicon: String?) {
        documentsAnnotated += 1
        tokens += row.tokens
        if documents.count < listLimit { documents.append(row) }
        if let model = row.model, !model.isEmpty { models[model, default: 0] += 1 }
        if let language = row.language, !language.isEmpty { languages[language, default: 0] += 1 }
        lexicons[lexicon ?? "none", default: 0] += 1
        entities.add(found)
    }

    /// Counts a refused document (or input) with its reason.
    public mutating func refuse(_ path: String, reason: String) {
        documentsRefused += 1
        if refused.count < listLimit { refused.append(Refusal(path: path, reason: reason)) }
    }

    /// Links the tables that `formats` give the whole run (``ResultTable``).
    public mutating func linkTables(for formats: [OutputFormat]) {
        for name in ResultTable.names(for: formats) {
            let title = name.hasSuffix(".csv") ? "Every entity of every document (CSV)" : "Every document's codes (PharmaCoNER subtrack 2)"
            links.append(Link(title: "\(title): \(name)", href: name))
        }
    }

    /// Adds a note for the reader, once.
    public mutating func note(_ text: String) {
        if !notes.contains(text) { notes.append(text) }
    }

    /// Adds everything another summary counted: its documents' paths put under `name`, their
    /// links under `folder` (the other page's folder, relative to this one).
    public mutating func add(_ other: RunSummary, named name: String, folder: String) {
        func named(_ path: String) -> String { name.isEmpty ? path : name + "/" + path }
        func inside(_ path: String) -> String { folder.isEmpty ? path : folder + "/" + path }
        tokens += other.tokens
        documentsAnnotated += other.documentsAnnotated
        documentsRefused += other.documentsRefused
        for row in other.documents where documents.count < listLimit {
            var row = row
            row.path = named(row.path)
            row.files = row.files.map(inside)
            documents.append(row)
        }
        for refusal in other.refused where refused.count < listLimit {
            refused.append(Refusal(path: named(refusal.path), reason: refusal.reason))
        }
        models.merge(other.models, uniquingKeysWith: +)
        languages.merge(other.languages, uniquingKeysWith: +)
        lexicons.merge(other.lexicons, uniquingKeysWith: +)
        entities.add(other.entities)
        for text in other.notes { note(text) }
    }
}
