import MedtagTagging
import MedtagText

/// The result formats medtag writes.
public enum OutputFormat: String, CaseIterable, Sendable, Codable {
    /// BRAT `.ann` plus a copy of the text as `.txt`, so BRAT tools open the pair.
    case brat
    /// CoNLL `.conll`, one token a line with offsets and a tag.
    case conll
    /// Spreadsheet `.csv`.
    case csv
    /// PharmaCoNER subtrack 2 `.tsv`: the document's distinct codes.
    case tsv

    /// Reads a comma-separated list such as `brat,conll,csv`.
    public static func parseList(_ list: String) throws(FormatError) -> [OutputFormat] {
        var formats: [OutputFormat] = []
        for name in list.split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let format = OutputFormat(rawValue: trimmed) else {
                throw FormatError(
                    format: "formats", reason: "unknown format '\(trimmed)'; choose from brat, conll, csv, tsv")
            }
            if !formats.contains(format) { formats.append(format) }
        }
        guard !formats.isEmpty else { throw FormatError(format: "formats", reason: "no format given") }
        return formats
    }
}

/// Turns an annotated document into the bytes of each requested file.
public struct OutputRenderer: Sendable {
    /// Tag scheme of the CoNLL output.
    public var conllScheme: TagScheme

    public init(conllScheme: TagScheme = .bio) {
        self.conllScheme = conllScheme
    }

    /// Files for one document, named `<baseName>.<extension>`, in a stable order.
    public func render(_ document: Document, baseName: String, formats: [OutputFormat]) -> [(fileName: String, bytes: [UInt8])] {
        var files: [(String, [UInt8])] = []
        for format in OutputFormat.allCases where formats.contains(format) {
            switch format {
            case .brat:
                files.append(("\(baseName).ann", Array(BRAT.render(document).utf8)))
                files.append(("\(baseName).txt", Array(document.text.utf8)))
            case .conll:
                files.append(("\(baseName).conll", Array(CoNLL.render([document], scheme: conllScheme).utf8)))
            case .csv:
                files.append(("\(baseName).csv", Array(CSVTable.render([document]).utf8)))
            case .tsv:
                files.append(("\(baseName).tsv", Array(SubtrackTSV.render(document).utf8)))
            }
        }
        return files
    }
}
