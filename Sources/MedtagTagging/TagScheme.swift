/// A mention as a range of token indices within one sentence.
public struct TokenSpan: Hashable, Sendable, Comparable {
    public var start: Int
    /// One past the last token.
    public var end: Int
    public var label: String

    public init(start: Int, end: Int, label: String) {
        self.start = start
        self.end = end
        self.label = label
    }

    public var count: Int { end - start }

    public static func < (a: TokenSpan, b: TokenSpan) -> Bool {
        (a.start, b.end, a.label) < (b.start, a.end, b.label)
    }

    func contains(_ other: TokenSpan) -> Bool { start <= other.start && other.end <= end }
    func overlaps(_ other: TokenSpan) -> Bool { start < other.end && other.start < end }
}

/// Per-token tag encodings of mentions.
///
/// - `bio`: `B-X`, `I-X`, `O`.
/// - `bioes`: `B-X`, `I-X`, `E-X`, `S-X` (single token), `O`.
/// - `bmewov`: `B-X`, `M-X`, `E-X`, `W-X` (single token), `O`, and `V-Y`: a single-token mention Y
///   nested inside a longer mention, at neither its first nor its last token (it counts as a middle
///   token of the outer mention). This keeps one level of nesting that BIO loses.
///
/// Where mentions overlap beyond what a scheme can represent, the longest outer mention wins and the
/// others are dropped by ``encode(_:count:)``; ``representable(_:)`` says which survive.
public enum TagScheme: String, Sendable, CaseIterable, Codable {
    case bio, bioes, bmewov

    /// The mentions the scheme can represent, in order.
    public func representable(_ spans: [TokenSpan]) -> [TokenSpan] {
        let (outer, inner) = layers(spans)
        return (outer + inner).sorted()
    }

    /// Tags for `count` tokens holding `spans`.
    public func encode(_ spans: [TokenSpan], count: Int) -> [String] {
        var tags = Array(repeating: "O", count: count)
        let (outer, inner) = layers(spans)
        for s in outer where s.start >= 0 && s.end <= count && s.count > 0 {
            for k in s.start..<s.end {
                let position: String
                switch self {
                case .bio: position = k == s.start ? "B" : "I"
                case .bioes: position = s.count == 1 ? "S" : k == s.start ? "B" : k == s.end - 1 ? "E" : "I"
                case .bmewov: position = s.count == 1 ? "W" : k == s.start ? "B" : k == s.end - 1 ? "E" : "M"
                }
                tags[k] = "\(position)-\(s.label)"
            }
        }
        for s in inner { tags[s.start] = "V-\(s.label)" }
        return tags
    }

    /// Mentions read back from tags. Ill-formed sequences (a model's output) are read leniently:
    /// an inside tag without a beginning starts a mention, a label change ends one.
    public func decode(_ tags: [String]) -> [TokenSpan] {
        var spans: [TokenSpan] = []
        var open: (start: Int, label: String)?
        func close(at end: Int) {
            if let o = open { spans.append(TokenSpan(start: o.start, end: end, label: o.label)) }
            open = nil
        }
        for (k, tag) in tags.enumerated() {
            let (position, label) = Self.split(tag)
            switch (self, position) {
            case (_, "O"), (_, ""):
                close(at: k)
            case (.bio, "B"), (.bioes, "B"), (.bmewov, "B"):
                close(at: k)
                open = (k, label)
            case (.bioes, "S"), (.bmewov, "W"):
                close(at: k)
                spans.append(TokenSpan(start: k, end: k + 1, label: label))
            case (.bmewov, "V"):
                // Nested in the open mention, which goes on; with none open it stands alone.
                spans.append(TokenSpan(start: k, end: k + 1, label: label))
            case (_, "E"):
                if open?.label != label {
                    close(at: k)
                    open = (k, label)
                }
                close(at: k + 1)
            default:  // I, M, or an unknown position: continue or start
                if open?.label != label {
                    close(at: k)
                    open = (k, label)
                }
            }
        }
        close(at: tags.count)
        return spans.sorted()
    }

    /// Splits `B-LABEL` into its position and label; `O` has an empty label.
    public static func split(_ tag: String) -> (position: String, label: String) {
        guard let dash = tag.firstIndex(of: "-") else { return (tag, "") }
        return (String(tag[..<dash]), String(tag[tag.index(after: dash)...]))
    }

    /// All tags of the scheme for a set of labels, `O` first.
    public func tags(for labels: [String]) -> [String] {
        let positions: [String]
        switch self {
        case .bio: positions = ["B", "I"]
        case .bioes: positions = ["B", "I", "E", "S"]
        case .bmewov: positions = ["B", "M", "E", "W", "V"]
        }
        return ["O"] + labels.flatMap { label in positions.map { "\($0)-\(label)" } }
    }

    /// Outer mentions (non-overlapping, longest first) and, for BMEWO-V, the nested mentions kept.
    private func layers(_ spans: [TokenSpan]) -> (outer: [TokenSpan], inner: [TokenSpan]) {
        // Longest first, then leftmost, then by label: a total order, so the same mentions give the same
        // tags in every run (the order of a Set is not stable between runs or instances).
        let ordered = Set(spans).sorted { ($0.count, $1.start, $1.label) > ($1.count, $0.start, $0.label) }
        // `outer` holds disjoint spans sorted by start, so one binary search finds the only span that
        // can overlap or hold a given one: linear work per span, not a scan of every mention so far
        // (a sentence of 40,000 mentions took minutes).
        var outer: [TokenSpan] = []
        func lastStarting(before limit: Int) -> Int? {
            var low = 0
            var high = outer.count
            while low < high {
                let mid = (low + high) / 2
                if outer[mid].start < limit { low = mid + 1 } else { high = mid }
            }
            return low == 0 ? nil : low - 1
        }
        var rest: [TokenSpan] = []
        for s in ordered where s.count > 0 {
            let candidate = lastStarting(before: s.end)
            if let k = candidate, outer[k].overlaps(s) {
                rest.append(s)
            } else {
                outer.insert(s, at: candidate.map { $0 + 1 } ?? 0)
            }
        }
        var inner: [TokenSpan] = []
        var innerStarts: Set<Int> = []
        if self == .bmewov {
            for s in rest where s.count == 1 {
                guard let k = lastStarting(before: s.start + 1), outer[k].contains(s),
                    s.start > outer[k].start, s.start < outer[k].end - 1,
                    !innerStarts.contains(s.start)
                else { continue }
                inner.append(s)
                innerStarts.insert(s.start)
            }
        }
        return (outer.sorted(), inner.sorted())
    }
}
