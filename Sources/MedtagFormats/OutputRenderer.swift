import MedtagTagging
import MedtagText

/// The result formats medtag writes.
public enum OutputFormat: String, CaseIterable, Sendable, Codable {
    /// BRAT `.ann` plus a copy of the text as `.txt`, so BRAT tools open the pair.
    case brat
    /// CoNLL `.conll`, one token a line with offsets and a tag.
    case conll
    /// One spreadsheet table for all documents (``ResultTable/csvName``), header once.
    case csv
    /// A spreadsheet table per document, `<name>.csv`.
    case csvDocuments = "csv-documents"
    /// PharmaCoNER subtrack 2: each document's distinct codes, all documents in one table
    /// (``ResultTable/tsvName``).
    case tsv
    /// PharmaCoNER subtrack 2, a file per document: `subtrack2/<name>.tsv`.
    case tsvDocuments = "tsv-documents"

    /// The names ``parseList(_:)`` accepts, for messages.
    public static let choices = "brat, conll, csv, csv-documents, tsv, tsv-documents"

    /// Reads a comma-separated list such as `brat,conll,csv`.
    public static func parseList(_ list: String) throws(FormatError) -> [OutputFormat] {
        var formats: [OutputFormat] = []
        for name in list.split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let format = OutputFormat(rawValue: trimmed) else {
                throw FormatError(
                    format: "formats", reason: "unknown format '\(trimmed)'; choose from \(choices)")
            }
            if !formats.contains(format) { formats.append(format) }
        }
        guard !formats.isEmpty else { throw FormatError(format: "formats", reason: "no format given") }
        return formats
    }
}

/// The tables of an input (or of a `medtag annotate` run): every document's rows in one file.
///
/// ``PieceRenderer`` gives their rows under these names, without the header; whoever collects the
/// documents writes ``header(_:)`` once, then every document's rows.
public enum ResultTable {
    /// Every entity of every document: `medtag-all.csv`.
    public static let csvName = "medtag-all.csv"
    /// Each document's subtrack-2 file (`tsv-documents`) lives in a folder of its own, so that a
    /// scorer reading every `.ann` and `.tsv` of the results folder never takes a `.tsv` for the
    /// document of the same name; the folder holds nothing else, so the PharmaCoNER script, which
    /// reads every `.tsv` of the folder it is given as one document, scores it document by document.
    public static let subtrack2Folder = "subtrack2"
    /// Where the subtrack-2 table of the whole run goes: a folder the scorer is never pointed at.
    public static let tablesFolder = "tables"
    /// Every document's codes: `tables/medtag-all.tsv`.
    public static let tsvName = "\(tablesFolder)/medtag-all.tsv"

    /// The tables written for `formats`, in the order ``PieceRenderer`` gives them.
    public static func names(for formats: [OutputFormat]) -> [String] {
        OutputFormat.allCases.filter(formats.contains).compactMap { format in
            switch format {
            case .csv: csvName
            case .tsv: tsvName
            default: nil
            }
        }
    }

    /// Whether a name ``PieceRenderer`` gives is one of the tables rather than a document's file.
    public static func isTable(_ fileName: String) -> Bool { fileName == csvName || fileName == tsvName }

    /// What a table starts with: the byte order mark and header row of the CSV, nothing for the TSV.
    public static func header(_ fileName: String) -> [UInt8] {
        fileName == csvName ? Array((CSVTable.bom + CSVTable.header).utf8) : []
    }
}

/// Turns an annotated document into the bytes of each requested file.
public struct OutputRenderer: Sendable {
    /// Tag scheme of the CoNLL output.
    public var conllScheme: TagScheme

    public init(conllScheme: TagScheme = .bio) {
        self.conllScheme = conllScheme
    }

    /// Files for one document, named `<baseName>.<extension>`, in a stable order (the tables'
    /// rows under their names, see ``ResultTable``).
    public func render(_ document: Document, baseName: String, formats: [OutputFormat], input: String = "") -> [(fileName: String, bytes: [UInt8])] {
        var renderer = PieceRenderer(documentID: document.id, baseName: baseName, formats: formats, conllScheme: conllScheme, input: input)
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
    /// The input the document came from, written in the CSV's `input` column.
    public let input: String
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
    /// Codes already listed, in the document's subtrack-2 file and in the table (each lists a code once).
    private var codes: Set<String> = []
    private var tableCodes: Set<String> = []

    public init(documentID: String, baseName: String, formats: [OutputFormat], conllScheme: TagScheme, input: String = "") {
        self.documentID = documentID
        self.input = input
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
            case .csv: kinds.append((.csvRows, ResultTable.csvName))
            case .csvDocuments: kinds.append((.csv, "\(baseName).csv"))
            case .tsv: kinds.append((.tsvRows, ResultTable.tsvName))
            case .tsvDocuments: kinds.append((.tsv, "\(ResultTable.subtrack2Folder)/\(baseName).tsv"))
            }
        }
        return kinds
    }

    private enum Kind { case ann, txt, conll, csv, csvRows, tsv, tsvRows }

    /// The files' names and first bytes, in a stable order; ``append(_:)`` returns its bytes in the
    /// same order. The tables (``ResultTable``) come with no header: their owner writes it once.
    public func header() -> [(fileName: String, bytes: [UInt8])] {
        kinds.map { kind, fileName in
            switch kind {
            case .ann, .txt, .tsv, .csvRows, .tsvRows: (fileName, [])
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
            case .csv, .csvRows: text = CSVTable.rows(input: input, documentID: documentID, shifted)
            case .tsv: text = SubtrackTSV.render(documentID: documentID, shifted, seen: &codes)
            case .tsvRows: text = SubtrackTSV.render(documentID: documentID, shifted, seen: &tableCodes)
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
