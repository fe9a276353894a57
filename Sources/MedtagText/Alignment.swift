/// How a character span lines up with the tokens of a document.
public struct TokenAlignment: Hashable, Sendable {
    /// Document-level token indices covering the span.
    public var tokens: Range<Int>
    /// True when the span starts at its first token's start and ends at its last token's end.
    public var isExact: Bool
}

extension Document {
    /// The tokens overlapping the code-point span `start..<end`, or nil if none does.
    public func alignment(start: Int, end: Int) -> TokenAlignment? {
        // First token whose end is after `start`.
        var low = 0
        var high = tokens.count
        while low < high {
            let mid = (low + high) / 2
            if tokens[mid].end <= start { low = mid + 1 } else { high = mid }
        }
        var last = low
        while last < tokens.count && tokens[last].start < end { last += 1 }
        guard low < last else { return nil }
        let exact = tokens[low].start == start && tokens[last - 1].end == end
        return TokenAlignment(tokens: low..<last, isExact: exact)
    }
}
