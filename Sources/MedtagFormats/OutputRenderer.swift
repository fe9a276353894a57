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
        var renderer = PieceRenderer(documentID: document.id, baseName: baseName, formats: formats, conllScheme: conllScheme)
        var files = renderer.header()
        for (index, piece) in renderer.append(document).enumerated() { files[index].bytes += piece.bytes }
        return files
    }
}

/// Renders a document that is annotated in pieces (see ``TextChunker``): the header, then each
/// piece's bytes appended to the files. The files are those ``OutputRenderer`` writes for the whole
/// document: offsets, sentence numbers and entity ids continue from piece to piece.
public struct PieceRenderer: Sendable {
    /// The id written in the CoNLL, CSV and TSV rows.
    public let documentID: String
    /// Files are named `<baseName>.<extension>`.
    public let baseName: String
    public let formats: [OutputFormat]
    /// Tag scheme of the CoNLL output.
    public let conllScheme: TagScheme
    /// What the pieces rendered so far hold.
    public private(set) var characters = 0
    public private(set) var sentences = 0
    public private(set) var tokens = 0
    public private(set) var entities = 0
    private var notes = 0
    private var codes: Set<String> = []

    public init(documentID: String, baseName: String, formats: [OutputFormat], conllScheme: TagScheme) {
        self.documentID = documentID
        self.baseName = baseName
        self.formats = formats
        self.conllScheme = conllScheme
    }

    private var kinds: [(kind: Kind, fileName: String)] {
        var kinds: [(Kind, String)] = []
        for format in OutputFormat.allCases where formats.contains(format) {
            switch format {
            case .brat:
                kinds.append((.ann, "\(baseName).ann"))
                kinds.append((.txt, "\(baseName).txt"))
            case .conll: kinds.append((.conll, "\(baseName).conll"))
            case .csv: kinds.append((.csv, "\(baseName).csv"))
            case .tsv: kinds.append((.tsv, "\(baseName).tsv"))
            }
        }
        return kinds
    }

    private enum Kind { case ann, txt, conll, csv, tsv }

    /// The files' names and first bytes, in a stable order; ``append(_:)`` returns its bytes in the same order.
    public func header() -> [(fileName: String, bytes: [UInt8])] {
        kinds.map { kind, fileName in
            switch kind {
            case .ann, .txt, .tsv: (fileName, [])
            case .conll: (fileName, Array(CoNLL.header(documentID).utf8))
            case .csv: (fileName, Array((CSVTable.bom + CSVTable.header).utf8))
            }
        }
    }

    /// The bytes of the next piece for each file. The piece's offsets count from its own start.
    public mutating func append(_ piece: Document) -> [(fileName: String, bytes: [UInt8])] {
        let offset = characters
        let sentenceBase = sentences
        let entityBase = entities
        let shifted = piece.entities.enumerated().map { index, entity in
            var entity = entity
            // Ids go on from the entities of earlier pieces (T1 of the second piece becomes T<n+1>).
            if entityBase > 0 { entity.id = "T\(entityBase + (Int(entity.id.dropFirst()) ?? index + 1))" }
            entity.start += offset
            entity.end += offset
            entity.sentence = entity.sentence.map { $0 + sentenceBase }
            return entity
        }
        var files: [(fileName: String, bytes: [UInt8])] = []
        for (kind, fileName) in kinds {
            let text: String
            switch kind {
            case .ann: text = BRAT.render(shifted, notes: &notes)
            case .txt: text = piece.text
            case .conll: text = CoNLL.sentences(of: piece, scheme: conllScheme, offset: offset)
            case .csv: text = CSVTable.rows(documentID: documentID, shifted)
            case .tsv: text = SubtrackTSV.render(documentID: documentID, shifted, seen: &codes)
            }
            files.append((fileName, Array(text.utf8)))
        }
        characters += piece.scalars.count
        sentences += piece.sentences.count
        tokens += piece.tokens.count
        entities += piece.entities.count
        return files
    }
}
