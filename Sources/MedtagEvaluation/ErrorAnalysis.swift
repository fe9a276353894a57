import MedtagFormats

/// Where a tagger goes wrong: token confusions, and what kind of mistake each error is.
public struct ErrorAnalysis: Sendable {
    /// Row: gold label (or `O`); column: predicted label (or `O`); value: tokens.
    public var confusion: [String: [String: Int]] = [:]
    /// Labels in the matrix, `O` last.
    public var labels: [String] = []
    /// A prediction with the right label but other edges.
    public var boundaryErrors = 0
    /// A prediction with the right edges but another label.
    public var labelErrors = 0
    /// A prediction overlapping with other edges and another label.
    public var boundaryAndLabelErrors = 0
    /// Gold mentions nothing overlaps.
    public var misses = 0
    /// Predictions that overlap no gold mention.
    public var spurious = 0
    /// Most frequent missed gold mention texts, with counts.
    public var topMissed: [(text: String, count: Int)] = []
    /// Most frequent false predicted mention texts, with counts.
    public var topFalse: [(text: String, count: Int)] = []

    /// - Parameter tokens: per document, token offsets for the confusion matrix (may be empty).
    public init(gold: [String: [Mention]], predicted: [String: [Mention]], tokens: [String: [(start: Int, end: Int)]], top: Int = 15) {
        var missed: [String: Int] = [:]
        var falses: [String: Int] = [:]
        var labelSet = Set<String>()
        for id in gold.keys.sorted() {
            let g = Array(Set(gold[id]!))
            let p = Array(Set(predicted[id] ?? []))
            labelSet.formUnion(g.map(\.label))
            labelSet.formUnion(p.map(\.label))
            let goldKeys = Set(g.map(\.key))
            let predKeys = Set(p.map(\.key))
            for m in g where !predKeys.contains(m.key) {
                let touching = p.filter { $0.overlaps(m) }
                if touching.isEmpty {
                    misses += 1
                } else if touching.contains(where: { $0.start == m.start && $0.end == m.end }) {
                    labelErrors += 1
                } else if touching.contains(where: { $0.label == m.label }) {
                    boundaryErrors += 1
                } else {
                    boundaryAndLabelErrors += 1
                }
                missed[m.text, default: 0] += 1
            }
            for m in p where !goldKeys.contains(m.key) {
                if !g.contains(where: { $0.overlaps(m) }) { spurious += 1 }
                falses[m.text, default: 0] += 1
            }
            for token in tokens[id] ?? [] {
                let row = g.first { $0.start < token.end && token.start < $0.end }?.label ?? "O"
                let column = p.first { $0.start < token.end && token.start < $0.end }?.label ?? "O"
                confusion[row, default: [:]][column, default: 0] += 1
            }
        }
        labels = labelSet.sorted() + ["O"]
        func ranked(_ counts: [String: Int]) -> [(text: String, count: Int)] {
            counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top).map { ($0.key, $0.value) }
        }
        topMissed = ranked(missed)
        topFalse = ranked(falses)
    }

    /// The confusion matrix as an SVG heat map, rows gold, columns predicted, shaded by row share.
    public func confusionSVG(title: String = "Token confusion (rows: gold, columns: predicted)") -> String {
        let cell = 90
        let left = 170
        let top = 80
        let n = labels.count
        let width = left + cell * n + 20
        let height = top + cell * n + 40
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="14">\(escape(title))</text>

            """
        for (c, label) in labels.enumerated() {
            svg += "<text x=\"\(left + c * cell + cell / 2)\" y=\"\(top - 10)\" text-anchor=\"middle\">\(escape(short(label)))</text>\n"
        }
        for (r, row) in labels.enumerated() {
            let y = top + r * cell
            svg += "<text x=\"\(left - 8)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">\(escape(short(row)))</text>\n"
            let total = max(1, labels.reduce(0) { $0 + (confusion[row]?[$1] ?? 0) })
            for (c, column) in labels.enumerated() {
                let value = confusion[row]?[column] ?? 0
                let share = Double(value) / Double(total)
                let shade = Int(255 - share * 200)
                svg += "<rect x=\"\(left + c * cell)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#999\"/>\n"
                svg += "<text x=\"\(left + c * cell + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\">\(value)</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    private func short(_ label: String) -> String { label.count > 14 ? String(label.prefix(13)) + "…" : label }
    private func escape(_ s: String) -> String { Markup.escape(s) }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
