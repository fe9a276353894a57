import MedtagText

/// Entities as a spreadsheet table (RFC 4180): a header row, one row an entity, CRLF line ends.
///
/// Cells that a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab or CR) get a
/// leading apostrophe, so they always stay text. Files add a UTF-8 byte order mark (``bom``).
public enum CSVTable {
    /// `input`: the file or archive the document came from; `document`: its path inside that input,
    /// without the extension, so no two documents of an input share it.
    public static let columns = [
        "input", "document", "entity_id", "label", "start", "end", "text", "code", "term", "method", "score", "sentence",
    ]
    /// UTF-8 byte order mark, so spreadsheets read the file as UTF-8.
    public static let bom = "\u{FEFF}"

    /// The header row.
    public static var header: String { row(columns) }

    /// Rows of a document's entities, without the header.
    public static func rows(_ document: Document, input: String = "") -> String {
        rows(input: input, documentID: document.id, document.entities)
    }

    /// Rows of some entities of the document `documentID` of `input`.
    static func rows(input: String, documentID: String, _ entities: some Sequence<Entity>) -> String {
        entities.map { e in
            row([
                input, documentID, e.id, e.label, String(e.start), String(e.end), e.text, e.code ?? "", e.term ?? "",
                e.method ?? "", e.score.map(formatScore) ?? "", e.sentence.map { String($0 + 1) } ?? "",
            ])
        }.joined()
    }

    /// A whole table: BOM, header, and the rows of every document.
    public static func render(_ documents: [Document], input: String = "") -> String {
        bom + header + documents.map { rows($0, input: input) }.joined()
    }

    static func row(_ cells: [String]) -> String {
        cells.map(quote).joined(separator: ",") + "\r\n"
    }

    /// One cell, neutralized and quoted as needed.
    public static func quote(_ cell: String) -> String {
        var value = cell
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            value = "'" + value
        }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    static func formatScore(_ score: Double) -> String {
        let scaled = (score * 10000).rounded() / 10000
        var text = String(scaled)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}

/// PharmaCoNER subtrack 2 (concept indexing): `document<TAB>code` for each distinct code.
///
/// `<null>` is listed like a code, as in the PharmaCoNER gold files; mentions not normalized at all
/// (no code) are not.
public enum SubtrackTSV {
    public static func render(_ document: Document) -> String {
        var seen = Set<String>()
        return render(documentID: document.id, document.entities, seen: &seen)
    }

    /// Lines for the codes of `entities` not in `seen`, which gains them.
    static func render(documentID: String, _ entities: some Sequence<Entity>, seen: inout Set<String>) -> String {
        var out = ""
        for entity in entities {
            guard let code = entity.code, !code.isEmpty, seen.insert(code).inserted else { continue }
            out += "\(documentID)\t\(code)\n"
        }
        return out
    }

    /// Reads `document<TAB>code` lines into a set of codes per document.
    public static func parse(_ text: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let fields = line.split(separator: "\t")
            guard fields.count >= 2 else { continue }
            let code = fields[1].trimmingCharacters(in: .whitespaces)
            result[String(fields[0]), default: []].insert(code)
        }
        return result
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
