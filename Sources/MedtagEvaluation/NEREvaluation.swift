/// Entity recognition scores as the PharmaCoNER script counts them.
///
/// Per document, gold and predicted mentions are sets of (start, end, label): a duplicate span counts
/// once. True positives, false positives and false negatives are summed over documents (micro
/// average), overall and per label.
public struct NEREvaluation: Sendable {
    /// Per-document result.
    public struct DocumentResult: Sendable, Hashable {
        public var id: String
        public var score: Score
        /// Whether the prediction file was missing (scored as all misses unless skipped).
        public var missing: Bool
    }

    public var mode: MatchMode
    public var overall = Score()
    public var byLabel: [String: Score] = [:]
    public var documents: [DocumentResult] = []

    /// Scores predictions against gold. `predicted[id] == nil` means the prediction file is missing.
    public init(gold: [String: [Mention]], predicted: [String: [Mention]], mode: MatchMode = .strict, skipMissing: Bool = false) {
        self.mode = mode
        for id in gold.keys.sorted() {
            guard let predictions = predicted[id] else {
                if skipMissing { continue }
                let misses = Set(gold[id]!.map(\.key))
                add(id, missing: true, misses.reduce(into: [:]) { $0[$1.label, default: Score()].falseNegatives += 1 })
                continue
            }
            add(id, missing: false, Self.compare(gold[id]!, predictions, mode))
        }
    }

    private mutating func add(_ id: String, missing: Bool, _ perLabel: [String: Score]) {
        var documentScore = Score()
        for (label, score) in perLabel {
            byLabel[label, default: Score()] = byLabel[label, default: Score()] + score
            documentScore = documentScore + score
        }
        overall = overall + documentScore
        documents.append(DocumentResult(id: id, score: documentScore, missing: missing))
    }

    /// Per-label counts for one document.
    static func compare(_ gold: [Mention], _ predicted: [Mention], _ mode: MatchMode) -> [String: Score] {
        var scores: [String: Score] = [:]
        switch mode {
        case .strict:
            let g = Set(gold.map(\.key))
            let p = Set(predicted.map(\.key))
            for k in g.intersection(p) { scores[k.label, default: Score()].truePositives += 1 }
            for k in p.subtracting(g) { scores[k.label, default: Score()].falsePositives += 1 }
            for k in g.subtracting(p) { scores[k.label, default: Score()].falseNegatives += 1 }
        case .overlap:
            let g = Array(Set(gold.map(\.key))).map { Mention(start: $0.start, end: $0.end, label: $0.label) }
            let p = Array(Set(predicted.map(\.key))).map { Mention(start: $0.start, end: $0.end, label: $0.label) }
            // Precision counts predictions that touch a gold mention; recall, gold mentions touched.
            for m in p {
                if g.contains(where: { $0.label == m.label && $0.overlaps(m) }) {
                    scores[m.label, default: Score()].truePositives += 1
                } else {
                    scores[m.label, default: Score()].falsePositives += 1
                }
            }
            for m in g where !p.contains(where: { $0.label == m.label && $0.overlaps(m) }) {
                scores[m.label, default: Score()].falseNegatives += 1
            }
        }
        return scores
    }

    /// Documents whose prediction file was missing.
    public var missingDocuments: [String] { documents.filter(\.missing).map(\.id) }
}

/// Concept indexing (PharmaCoNER subtrack 2): per document, the set of distinct codes.
///
/// `<null>` is a code like any other, as in the official gold files; pass `ignoreNull` to leave it
/// out of both sides.
public struct IndexingEvaluation: Sendable {
    public var overall = Score()
    public var documents: [NEREvaluation.DocumentResult] = []

    public init(gold: [String: Set<String>], predicted: [String: Set<String>?], skipMissing: Bool = false, ignoreNull: Bool = false) {
        for id in gold.keys.sorted() {
            var g = gold[id]!
            if ignoreNull { g.remove("<null>") }
            let entry = predicted[id]
            guard let found = entry, var p = found else {
                if skipMissing { continue }
                let score = Score(falseNegatives: g.count)
                overall = overall + score
                documents.append(.init(id: id, score: score, missing: true))
                continue
            }
            if ignoreNull { p.remove("<null>") }
            let score = Score(
                truePositives: g.intersection(p).count, falsePositives: p.subtracting(g).count,
                falseNegatives: g.subtracting(p).count)
            overall = overall + score
            documents.append(.init(id: id, score: score, missing: false))
        }
    }

    public var missingDocuments: [String] { documents.filter(\.missing).map(\.id) }
}
