import MedtagTagging
import MedtagText

/// One token a line — `token<TAB>start<TAB>end<TAB>tag` — a blank line between sentences, and a
/// `-DOCSTART-<TAB>id` line (then a blank line) before each document.
public enum CoNLL {
    /// One row of a CoNLL file.
    public struct Row: Hashable, Sendable {
        public var token: String
        public var start: Int?
        public var end: Int?
        public var tag: String

        public init(token: String, start: Int?, end: Int?, tag: String) {
            self.token = token
            self.start = start
            self.end = end
            self.tag = tag
        }
    }

    /// A document read back from CoNLL.
    public struct Block: Hashable, Sendable {
        public var id: String
        public var sentences: [[Row]]
    }

    /// Documents with their entities encoded in `scheme`.
    public static func render(_ documents: [Document], scheme: TagScheme) -> String {
        var out = ""
        for document in documents {
            out += header(document.id)
            out += sentences(of: document, scheme: scheme, offset: 0)
        }
        return out
    }

    /// The `-DOCSTART-` line (and blank line) that opens a document.
    static func header(_ id: String) -> String { "-DOCSTART-\t\(id)\n\n" }

    /// A document's sentences, each followed by a blank line; `offset` is added to every offset.
    static func sentences(of document: Document, scheme: TagScheme, offset: Int) -> String {
        var out = ""
        let spans = document.tokenSpansBySentence()
        for (s, sentence) in document.sentences.enumerated() {
            let tokens = document.tokens[sentence.tokens]
            let tags = scheme.encode(spans[s], count: tokens.count)
            for (token, tag) in zip(tokens, tags) {
                out += "\(token.text)\t\(token.start + offset)\t\(token.end + offset)\t\(tag)\n"
            }
            out += "\n"
        }
        return out
    }

    /// Reads CoNLL with four columns (token, start, end, tag) or two (token, tag; the last column
    /// is the tag). Text before the first `-DOCSTART-` forms a document with an empty id.
    public static func parse(_ text: String) throws(FormatError) -> [Block] {
        var blocks: [Block] = []
        var current: Block?
        var sentence: [Row] = []
        func flushSentence() {
            if !sentence.isEmpty {
                if current == nil { current = Block(id: "", sentences: []) }
                current!.sentences.append(sentence)
            }
            sentence = []
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                flushSentence()
                continue
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields[0].hasPrefix("-DOCSTART-") {
                flushSentence()
                if let c = current { blocks.append(c) }
                current = Block(id: fields.count > 1 ? fields[1] : "", sentences: [])
                continue
            }
            switch fields.count {
            case 4:
                guard let start = Int(fields[1]), let end = Int(fields[2]) else {
                    throw FormatError(format: "CoNLL", line: number + 1, reason: "start and end must be integers")
                }
                sentence.append(Row(token: fields[0], start: start, end: end, tag: fields[3]))
            case 2...:
                sentence.append(Row(token: fields[0], start: nil, end: nil, tag: fields[fields.count - 1]))
            default:
                sentence.append(Row(token: fields[0], start: nil, end: nil, tag: "O"))
            }
        }
        flushSentence()
        if let c = current { blocks.append(c) }
        return blocks
    }
}
