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

/// Annotates one document piece by piece as its text is read — the one place that does: every
/// piece is routed as the language of the first, so a document is never split between two models.
public struct PieceAnnotator {
    public let annotator: any DocumentAnnotator
    /// The document id written in the results.
    public let id: String
    /// The inbox sub-folder (language) the document came from, if any.
    public let folder: String?
    /// The pool a turn is taken from for each piece; nil when the caller already holds one (a pool thread).
    public let pool: AnnotationPool?
    /// The language of the first piece, once annotated.
    public private(set) var language: String?

    public init(annotator: any DocumentAnnotator, id: String, folder: String?, pool: AnnotationPool?) {
        self.annotator = annotator
        self.id = id
        self.folder = folder
        self.pool = pool
    }

    /// Annotates the next piece of the document's text.
    public mutating func annotate(_ text: String) throws -> RoutedDocument {
        let (annotator, id, route) = (annotator, id, language ?? folder)
        let routed = try pool.map { pool in try pool.withTurn { () throws in try annotator.annotateRouted(id: id, text: text, folder: route) } }
            ?? annotator.annotateRouted(id: id, text: text, folder: route)
        language = language ?? routed.language
        return routed
    }
}
