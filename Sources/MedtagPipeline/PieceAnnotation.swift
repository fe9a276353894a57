import MedtagFormats
import MedtagTagging
import MedtagText

/// A document annotated piece by piece (see ``TextChunker``): every piece is annotated as the
/// language of the first, and rendered with the offsets, sentence numbers and entity ids of the
/// whole document (see ``PieceRenderer``).
public struct PieceAnnotation: Sendable {
    /// The document id written in the results.
    public let id: String
    /// The input the document came from (the CSV's `input` column).
    public let input: String
    /// Result files are named `<baseName>.<extension>`.
    public let baseName: String
    public let formats: [OutputFormat]
    /// The CoNLL tag scheme; nil means the scheme of the model that tags the first piece.
    public let conllScheme: TagScheme?
    /// How the first piece was routed (language, source, model, notes); its document is dropped.
    public private(set) var first: RoutedDocument?
    /// Counts of what has been rendered; nil before the first piece.
    public private(set) var renderer: PieceRenderer?
    /// Whether every piece so far held only whitespace.
    public private(set) var onlyWhitespace = true

    public init(id: String, baseName: String, formats: [OutputFormat], conllScheme: TagScheme? = nil, input: String = "") {
        self.id = id
        self.input = input
        self.baseName = baseName
        self.formats = formats
        self.conllScheme = conllScheme
    }

    /// The folder (language) to route the next piece with: `folder` for the first piece, the first
    /// piece's language after it, so a document is never split between two models.
    public func folder(_ folder: String?) -> String? { Self.routingFolder(folder, firstLanguage: first?.language) }

    /// The folder (language) to route a piece with, given the language of the document's first
    /// piece (nil for the first piece itself).
    public static func routingFolder(_ folder: String?, firstLanguage: String?) -> String? { firstLanguage ?? folder }

    /// The bytes of an annotated piece for each file, in a stable order; with the first piece they
    /// start with each file's header.
    public mutating func render(_ piece: RoutedDocument) -> [(fileName: String, bytes: [UInt8])] {
        if onlyWhitespace { onlyWhitespace = piece.document.scalars.allSatisfy { $0.properties.isWhitespace } }
        var renderer = self.renderer ?? PieceRenderer(
                documentID: id, baseName: baseName, formats: formats, conllScheme: conllScheme ?? piece.conllScheme, input: input)
        var files = self.renderer == nil ? renderer.header() : []
        let bytes = renderer.append(piece.document)
        if files.isEmpty {
            files = bytes
        } else {
            for index in files.indices { files[index].bytes += bytes[index].bytes }
        }
        if first == nil {
            var routed = piece
            routed.document = Document(id: piece.document.id, text: "", language: piece.document.language)
            first = routed
        }
        self.renderer = renderer
        return files
    }
}
