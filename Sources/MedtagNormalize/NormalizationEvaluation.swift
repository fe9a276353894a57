import Foundation

/// A gold mention for normalization alone: the span's text, its label and its annotated code.
public struct GoldMention: Sendable, Hashable {
    /// Entity label.
    public var label: String
    /// Mention text.
    public var text: String
    /// Annotated code (`<null>` or a concept id); nil when the annotation has no note.
    public var code: String?

    /// A gold mention.
    public init(label: String, text: String, code: String?) {
        self.label = label
        self.text = text
        self.code = code
    }
}

/// Concept-indexing figures (PharmaCoNER subtrack 2) and per-step figures of the cascade.
public struct NormalizationReport: Sendable, CustomStringConvertible {
    /// Figures for one cascade step.
    public struct Step: Sendable, Hashable {
        /// Mentions decided by this step.
        public var handled = 0
        /// Of those, mentions whose predicted code equals the gold code (a missing note counts as `<null>`).
        public var correct = 0
    }
    /// Documents evaluated.
    public var documents = 0
    /// Mentions evaluated.
    public var mentions = 0
    /// Distinct non-null codes predicted and in gold, summed over documents.
    public var truePositives = 0
    /// Predicted codes not in the document's gold set.
    public var falsePositives = 0
    /// Gold codes not predicted.
    public var falseNegatives = 0
    /// Per cascade step.
    public var steps: [MatchMethod: Step] = [:]
    /// Mentions whose predicted code differs from the gold code (when collected).
    public var errors: [(mention: GoldMention, match: ConceptMatch)] = []

    /// Micro-averaged precision over documents.
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// Micro-averaged recall over documents.
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    /// Harmonic mean of precision and recall.
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    /// Share of mentions whose predicted code equals the gold code.
    public var mentionAccuracy: Double { ratio(steps.values.reduce(0) { $0 + $1.correct }, mentions) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    private static func format(_ x: Double) -> String {
        let scaled = (x * 1000).rounded() / 1000
        var s = String(scaled)
        while s.split(separator: ".").last.map({ $0.count < 3 }) ?? false { s += "0" }
        return s
    }

    /// A printable table.
    public var description: String {
        var lines: [String] = []
        lines.append("documents \(documents), mentions \(mentions)")
        lines.append(
            "concept indexing (micro over documents): P \(Self.format(precision)) R \(Self.format(recall)) F1 \(Self.format(f1))"
                + "  (TP \(truePositives), FP \(falsePositives), FN \(falseNegatives))")
        lines.append("mention accuracy \(Self.format(mentionAccuracy))")
        lines.append("step              handled  coverage  correct   (correct = precision for steps giving a code; for <null> steps, gold is <null> too)")
        for method in MatchMethod.allCases {
            guard let step = steps[method], step.handled > 0 else { continue }
            let name = method.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            let handled = String(step.handled)
            lines.append(
                "\(name)  \(String(repeating: " ", count: max(0, 7 - handled.count)))\(handled)     \(Self.format(ratio(step.handled, mentions)))      \(Self.format(ratio(step.correct, step.handled)))"
            )
        }
        return lines.joined(separator: "\n")
    }
}

/// Scores the normalizer on gold spans (normalization alone).
public enum NormalizationEvaluation {
    /// Normalizes every gold mention and compares codes per document and per mention.
    /// - Parameter collectErrors: keep the mentions whose code is wrong in `errors`.
    public static func evaluate(
        documents: [(id: String, mentions: [GoldMention])], normalizer: ConceptNormalizer, collectErrors: Bool = false
    ) -> NormalizationReport {
        var report = NormalizationReport()
        for document in documents {
            report.documents += 1
            var predicted = Set<String>()
            var gold = Set<String>()
            for mention in document.mentions {
                report.mentions += 1
                let match = normalizer.normalize(mention.text, label: mention.label)
                let goldCode = mention.code ?? ConceptMatch.nullCode
                if goldCode != ConceptMatch.nullCode { gold.insert(goldCode) }
                if match.code != ConceptMatch.nullCode { predicted.insert(match.code) }
                report.steps[match.method, default: NormalizationReport.Step()].handled += 1
                if match.code == goldCode {
                    report.steps[match.method]!.correct += 1
                } else if collectErrors {
                    report.errors.append((mention, match))
                }
            }
            report.truePositives += predicted.intersection(gold).count
            report.falsePositives += predicted.subtracting(gold).count
            report.falseNegatives += gold.subtracting(predicted).count
        }
        return report
    }
}

/// PharmaCoNER concept indexing (subtrack 2) from per-document code sets: micro-averaged over documents.
public struct ConceptIndexingScore: Sendable, Hashable, CustomStringConvertible {
    /// Predicted codes found in the document's gold set, summed over documents.
    public var truePositives = 0
    /// Predicted codes not in the gold set.
    public var falsePositives = 0
    /// Gold codes not predicted.
    public var falseNegatives = 0
    /// Documents scored (the union of both sides).
    public var documents = 0

    /// Scores predicted against gold code sets keyed by document id; `<null>` codes are ignored.
    public init(predicted: [String: Set<String>], gold: [String: Set<String>]) {
        for id in Set(predicted.keys).union(gold.keys) {
            let p = (predicted[id] ?? []).subtracting([ConceptMatch.nullCode])
            let g = (gold[id] ?? []).subtracting([ConceptMatch.nullCode])
            truePositives += p.intersection(g).count
            falsePositives += p.subtracting(g).count
            falseNegatives += g.subtracting(p).count
            documents += 1
        }
    }

    /// Micro precision.
    public var precision: Double { truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
    /// Micro recall.
    public var recall: Double { truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
    /// Harmonic mean.
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }

    /// One line: P, R, F1 and counts.
    public var description: String {
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        return "concept indexing over \(documents) documents: P \(f(precision)) R \(f(recall)) F1 \(f(f1))  (TP \(truePositives), FP \(falsePositives), FN \(falseNegatives))"
    }
}
