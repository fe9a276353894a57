/// Cuts UTF-8 text into pieces that can be annotated one at a time with the same result as the
/// whole, so memory stays bounded however long a document is.
///
/// A piece ends after a line end: sentences never cross one (see ``Tokenizer``), and every
/// component works sentence by sentence, so annotating the pieces gives the tokens, sentences and
/// entities of the whole text. Only a line longer than the piece size is cut elsewhere: after a
/// space or tab, else between two characters; a sentence cut there is annotated as two.
public struct TextChunker: Sendable {
    /// The largest piece, in bytes.
    public let maximumBytes: Int

    /// - Parameter maximumBytes: the largest piece in bytes (at least 4, so that one UTF-8
    ///   character always fits).
    public init(maximumBytes: Int) {
        self.maximumBytes = max(4, maximumBytes)
    }

    /// How a piece's end was chosen.
    public enum Cut: Sendable, Equatable {
        /// The whole remaining text.
        case end
        /// After a line end (line feed, carriage return, vertical tab or form feed).
        case line
        /// After a space or tab inside a line longer than the piece size.
        case space
        /// Between two characters of a line with no space in reach.
        case character
    }

    /// The length of the next piece of `bytes`, and how it was cut; nil when `bytes` is empty, or
    /// when it is not complete (more text follows, as while a file is read) and still fits in one
    /// piece: read more first.
    public func nextPiece(in bytes: UnsafeBufferPointer<UInt8>, isComplete: Bool) -> (length: Int, cut: Cut)? {
        guard !bytes.isEmpty else { return nil }
        if bytes.count <= maximumBytes { return isComplete ? (bytes.count, .end) : nil }
        let window = maximumBytes
        // Line feed, carriage return (old Mac files), vertical tab, form feed: each ends a sentence.
        if let newline = lastIndex(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C }, in: bytes, before: window) {
            return (newline + 1, .line)
        }
        if let space = lastIndex(where: { $0 == 0x20 || $0 == 0x09 }, in: bytes, before: window) {
            return (space + 1, .space)
        }
        // No space in reach: cut before the character that straddles the window's end. A UTF-8
        // character has at most 3 continuation bytes; with no character start among them the
        // bytes are not UTF-8, and the cut stays at the window (decoding names the bad byte).
        var cut = window
        while cut > window - 3 && (bytes[cut] & 0xC0) == 0x80 { cut -= 1 }
        if (bytes[cut] & 0xC0) == 0x80 { cut = window }
        return (cut, .character)
    }

    private func lastIndex(where match: (UInt8) -> Bool, in bytes: UnsafeBufferPointer<UInt8>, before end: Int) -> Int? {
        var i = end - 1
        while i >= 0 {
            if match(bytes[i]) { return i }
            i -= 1
        }
        return nil
    }

    /// The pieces of a whole text. An empty text is one empty piece.
    public func pieces(of text: String) -> [Substring] {
        var text = text
        text.makeContiguousUTF8()
        let ranges = text.utf8.withContiguousStorageIfAvailable { pieces(of: $0) } ?? []
        guard !ranges.isEmpty else { return [text[...]] }
        let utf8 = text.utf8
        return ranges.map { range in
            let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return text[start..<utf8.index(start, offsetBy: range.count)]
        }
    }

    /// The pieces of a whole buffer, as byte ranges.
    public func pieces(of bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let rest = UnsafeBufferPointer(rebasing: bytes[start...])
            guard let (length, _) = nextPiece(in: rest, isComplete: true) else { break }
            ranges.append(start..<(start + length))
            start += length
        }
        return ranges
    }
}
