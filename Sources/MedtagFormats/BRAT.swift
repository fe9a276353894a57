import MedtagText

/// BRAT standoff annotations (`.ann`): `T` lines for mentions, `#N AnnotatorNotes` for codes.
public enum BRAT {
    /// Mentions and their codes from the text of an `.ann` file.
    ///
    /// Lines other than `T` and `AnnotatorNotes` are ignored; a discontinuous mention keeps its
    /// outer bounds.
    public static func parse(_ ann: String) throws(FormatError) -> [Entity] {
        var entities: [Entity] = []
        var index: [String: Int] = [:]
        var notes: [(target: String, code: String)] = []
        for (number, rawLine) in ann.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard let first = line.first else { continue }
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            if first == "T" {
                guard fields.count == 3 else {
                    throw FormatError(format: "BRAT", line: number + 1, reason: "a T line needs three tab-separated fields")
                }
                let head = fields[1].split(separator: " ", maxSplits: 1)
                guard head.count == 2 else {
                    throw FormatError(format: "BRAT", line: number + 1, reason: "expected 'LABEL START END'")
                }
                let offsets = head[1].split(whereSeparator: { $0 == " " || $0 == ";" }).map { Int($0) }
                guard offsets.count >= 2, offsets.count % 2 == 0, let start = offsets.first!, let end = offsets.last!,
                    !offsets.contains(nil), start >= 0, start <= end
                else {
                    throw FormatError(format: "BRAT", line: number + 1, reason: "bad offsets '\(head[1])'")
                }
                index[String(fields[0])] = entities.count
                entities.append(
                    Entity(id: String(fields[0]), label: String(head[0]), start: start, end: end, text: String(fields[2])))
            } else if first == "#", fields.count == 3 {
                let head = fields[1].split(separator: " ")
                if head.count == 2, head[0] == "AnnotatorNotes" {
                    notes.append((String(head[1]), fields[2].trimmingCharacters(in: .whitespaces)))
                }
            }
        }
        for note in notes {
            if let k = index[note.target] { entities[k].code = note.code }
        }
        return entities
    }

    /// The `.ann` text of a document's entities, codes as AnnotatorNotes.
    public static func render(_ document: Document) -> String {
        var notes = 0
        return render(document.entities, notes: &notes)
    }

    /// `.ann` lines of some entities; `notes` counts the `#` note lines written before them.
    static func render(_ entities: some Sequence<Entity>, notes: inout Int) -> String {
        var out = ""
        for entity in entities {
            let text = entity.text.replacingNewlines()
            out += "\(entity.id)\t\(entity.label) \(entity.start) \(entity.end)\t\(text)\n"
            if let code = entity.code {
                notes += 1
                out += "#\(notes)\tAnnotatorNotes \(entity.id)\t\(code)\n"
            }
        }
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: CharacterSetLite) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }

    /// Newlines and tabs as spaces, so a value stays on its line; the length in code points is kept.
    func replacingNewlines() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 }))
    }
}

/// A tiny character set, to keep these targets free of Foundation.
struct CharacterSetLite {
    let contains: @Sendable (Character) -> Bool
    static let whitespaces = CharacterSetLite { $0 == " " || $0 == "\t" || $0 == "\r" }
    func contains(_ c: Character) -> Bool { contains(c) }
}

/// A file in one of the annotation formats that cannot be read.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Format name (BRAT, CoNLL, …).
    public var format: String
    /// 1-based line number, when known.
    public var line: Int?
    public var reason: String

    public init(format: String, line: Int? = nil, reason: String) {
        self.format = format
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(format) line \(line): \(reason)" }
        return "\(format): \(reason)"
    }
}
