/// Counts of a comparison and the precision, recall and F1 they give.
public struct Score: Hashable, Sendable, Codable {
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int

    public init(truePositives: Int = 0, falsePositives: Int = 0, falseNegatives: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
    }

    /// 0 when nothing was predicted, as the PharmaCoNER script does.
    public var precision: Double {
        truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// 0 when there is nothing to find.
    public var recall: Double {
        truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
    }
    public var f1: Double {
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    public static func + (a: Score, b: Score) -> Score {
        Score(
            truePositives: a.truePositives + b.truePositives, falsePositives: a.falsePositives + b.falsePositives,
            falseNegatives: a.falseNegatives + b.falseNegatives)
    }
}

/// A mention as scored: span and label (and text, for error listings).
public struct Mention: Hashable, Sendable {
    public var start: Int
    public var end: Int
    public var label: String
    public var text: String

    public init(start: Int, end: Int, label: String, text: String = "") {
        self.start = start
        self.end = end
        self.label = label
        self.text = text
    }

    var key: MentionKey { MentionKey(start: start, end: end, label: label) }
    func overlaps(_ other: Mention) -> Bool { start < other.end && other.start < end }
}

struct MentionKey: Hashable {
    var start: Int
    var end: Int
    var label: String
}

/// How mentions are matched.
public enum MatchMode: String, Sendable, CaseIterable, Codable {
    /// Same start, end and label: the official PharmaCoNER measure.
    case strict
    /// Same label and at least one character in common.
    case overlap
}
