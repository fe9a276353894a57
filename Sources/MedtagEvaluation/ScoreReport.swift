import Foundation
import MedtagFormats

/// How a ``ScoreReport`` is written.
public enum ScoreFormat: String, Sendable, CaseIterable {
    /// A table for people: aligned columns (tab-separated for conlleval's scores).
    case table
    /// One JSON object, keys sorted, for scripts (`training/cv.py` reads `evaluate run`'s).
    case json
    /// CSV with a header line, for spreadsheets.
    case csv
}

/// Precision, recall and F1 as `medtag evaluate` reports them: per label, micro-averaged and, when
/// asked, per document, in any ``ScoreFormat``. The one rendering of scores for every evaluation
/// (entity recognition, concept indexing, conlleval's token-per-line files).
///
/// Each kind keeps the JSON shape scripts read: entity recognition has `match`, `micro`, `labels`
/// and `missing_documents`; concept indexing the same without `match` and `labels` (that is how
/// `training/cv.py` tells the two apart); conlleval's `accuracy`, `micro` and `labels`. Per-document
/// scores add `documents`.
public struct ScoreReport: Sendable {
    enum Kind: Sendable {
        case ner(MatchMode)
        case indexing
        case conll(accuracy: Double)
    }

    let kind: Kind
    /// Scores by label, sorted by label (none for concept indexing).
    public let labels: [(label: String, score: Score)]
    /// The micro-averaged score.
    public let micro: Score
    /// Gold documents that had no prediction.
    public let missingDocuments: [String]
    /// Each document's score, when they are to be listed.
    public let documents: [NEREvaluation.DocumentResult]?

    /// Entity recognition (PharmaCoNER subtrack 1); `verbose` lists each document too.
    public init(ner evaluation: NEREvaluation, verbose: Bool = false) {
        kind = .ner(evaluation.mode)
        labels = evaluation.byLabel.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        micro = evaluation.overall
        missingDocuments = evaluation.missingDocuments
        documents = verbose ? evaluation.documents : nil
    }

    /// Concept indexing (per-document code sets, subtrack 2); `verbose` lists each document too.
    public init(indexing evaluation: IndexingEvaluation, verbose: Bool = false) {
        kind = .indexing
        labels = []
        micro = evaluation.overall
        missingDocuments = evaluation.missingDocuments
        documents = verbose ? evaluation.documents : nil
    }

    /// Entities of token-per-line files by conlleval's rules, with the token accuracy.
    public init(conll evaluation: CoNLLEvaluation) {
        kind = .conll(accuracy: evaluation.accuracy)
        labels = evaluation.byLabel.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        micro = evaluation.overall
        missingDocuments = []
        documents = nil
    }

    /// The report in `format`, without a final line break.
    public func render(_ format: ScoreFormat) -> String {
        switch format {
        case .table: table()
        case .csv: csv()
        case .json: json()
        }
    }

    private func table() -> String {
        var lines: [String]
        switch kind {
        case .ner(let mode):
            lines = ["NER (\(mode.rawValue) match)", Self.row("label", "tp", "fp", "fn", "precision", "recall", "f1")]
            lines += labels.map { Self.row($0.label, $0.score) }
            lines.append(Self.row("micro", micro))
            if documents != nil { lines.append("") }
        case .indexing:
            lines = ["Concept indexing (per-document code sets)", Self.row("", "tp", "fp", "fn", "precision", "recall", "f1")]
            lines.append(Self.row("micro", micro))
        case .conll(let accuracy):
            lines = [
                "CoNLL entities (conlleval rules); token accuracy \(Self.f4(accuracy))",
                ["label", "tp", "fp", "fn", "precision", "recall", "f1"].joined(separator: "\t"),
            ]
            lines += labels.map { Self.cells($0.label, $0.score).joined(separator: "\t") }
            lines.append(Self.cells("micro", micro).joined(separator: "\t"))
        }
        for d in documents ?? [] { lines.append(Self.row(d.id + (d.missing ? " (missing)" : ""), d.score)) }
        return lines.joined(separator: "\n")
    }

    private func csv() -> String {
        if case .conll = kind {
            // conlleval's columns: no scope, the label as is.
            var lines = ["label,tp,fp,fn,precision,recall,f1"]
            lines += labels.map { Self.cells($0.label, $0.score).joined(separator: ",") }
            lines.append(Self.cells("micro", micro).joined(separator: ","))
            return lines.joined(separator: "\n")
        }
        var lines = ["scope,label,tp,fp,fn,precision,recall,f1"]
        if case .indexing = kind {
            lines.append(Self.csvLine("micro", "codes", micro))
        } else {
            lines.append(Self.csvLine("micro", "ALL", micro))
        }
        lines += labels.map { Self.csvLine("label", $0.label, $0.score) }
        for d in documents ?? [] { lines.append(Self.csvLine("document", d.id, d.score)) }
        return lines.joined(separator: "\n")
    }

    private func json() -> String {
        var object: [String: Any] = ["micro": Self.object(micro)]
        let labelsObject = Dictionary(uniqueKeysWithValues: labels.map { ($0.label, Self.object($0.score)) })
        switch kind {
        case .ner(let mode):
            object["match"] = mode.rawValue
            object["labels"] = labelsObject
            object["missing_documents"] = missingDocuments
        case .indexing:
            object["missing_documents"] = missingDocuments
        case .conll(let accuracy):
            object["accuracy"] = accuracy
            object["labels"] = labelsObject
        }
        if let documents {
            object["documents"] = Dictionary(uniqueKeysWithValues: documents.map { ($0.id, Self.object($0.score)) })
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A score with four decimals, as every table and CSV writes it.
    public static func f4(_ x: Double) -> String { String(format: "%.4f", x) }

    private static func object(_ s: Score) -> [String: Any] {
        ["tp": s.truePositives, "fp": s.falsePositives, "fn": s.falseNegatives, "precision": s.precision, "recall": s.recall, "f1": s.f1]
    }

    private static func cells(_ label: String, _ s: Score) -> [String] {
        [label, String(s.truePositives), String(s.falsePositives), String(s.falseNegatives), f4(s.precision), f4(s.recall), f4(s.f1)]
    }

    private static func csvLine(_ scope: String, _ label: String, _ s: Score) -> String {
        ([scope] + [CSVTable.quote(label)] + cells(label, s).dropFirst()).joined(separator: ",")
    }

    private static func row(_ label: String, _ s: Score) -> String { row(cells(label, s)) }

    private static func row(_ cells: String...) -> String { row(cells) }

    private static func row(_ cells: [String]) -> String {
        pad(cells[0], 28) + cells.dropFirst().map { pad($0, 10) }.joined()
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

extension ErrorAnalysis {
    /// The analysis as a table for people: error kinds, the token confusion matrix, the mentions
    /// most often missed and most often predicted wrongly. Starts with a blank line.
    public var table: String {
        let pad = ScoreReport.pad
        var lines = [
            "",
            "Errors: \(misses) missed, \(spurious) spurious, \(boundaryErrors) boundary, \(labelErrors) label, \(boundaryAndLabelErrors) boundary+label",
        ]
        if !confusion.isEmpty {
            lines.append("")
            lines.append("Token confusion (rows gold, columns predicted)")
            lines.append(pad("", 18) + labels.map { pad(String($0.prefix(12)), 13) }.joined())
            for r in labels {
                lines.append(pad(String(r.prefix(17)), 18) + labels.map { pad(String(confusion[r]?[$0] ?? 0), 13) }.joined())
            }
        }
        lines.append("")
        lines.append("Most missed: " + topMissed.map { "\($0.text) (\($0.count))" }.joined(separator: ", "))
        lines.append("Most false:  " + topFalse.map { "\($0.text) (\($0.count))" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
