import MedtagIngest
import MedtagPipeline
import SystemPackage

/// Reads a claimed input through an ``InputRun`` and writes each of its documents into the input's
/// staging folder, in order: a file is one document (its failure fails the input), an archive's
/// members are documents (a member that cannot be read or annotated is refused alone, in the report).
struct StagingWriter {
    /// The input, relative to the inbox.
    let relativePath: String
    /// The claimed input.
    let input: FilePath
    let writer: InputWriter<StagingSink>

    func process(annotator: any DocumentAnnotator, pool: AnnotationPool, limits: InputLimits) throws(SpoolError) {
        let run = InputRun<SpoolError>(annotator: annotator, pool: pool, limits: limits)
        let name = FilePath(relativePath).lastComponent?.string ?? relativePath
        let reading: InputReading
        do throws(SpoolError) {
            reading = try run.add(input, folder: Self.languageFolder(relativePath), admit: { Self.documentID($0.path) }) {
                (event) throws(SpoolError) in
                switch event {
                case .refused(let path, let reason): writer.refuse(path, reason: reason)
                case .document(let document) where document.isMember: try writeMember(document)
                case .document(let document):
                    let next = writer.pieces(of: document) { SpoolError($0, path: name, shownPath: relativePath) }
                    try write(document, path: name, pieces: next, holdRows: false)
                }
            }
            if let error = reading.error { throw SpoolError(error, path: relativePath) }
            try run.finish()
        } catch {
            run.cancel()
            throw error
        }
        writer.finished(reading, by: run)
    }

    /// Writes an archive member's results, or refuses it alone when it cannot be read or annotated.
    /// Its pieces were annotated on the pool: they are all taken first, so a failure refuses the
    /// member before any of its files is written, and its table rows are kept until it is whole.
    private func writeMember(_ member: RunDocument) throws(SpoolError) {
        let document = member.document
        let next = writer.pieces(of: member) { SpoolError($0, path: document.path, shownPath: document.shownPath) }
        var routed: [RoutedDocument] = []
        do {
            while let piece = try next() { routed.append(piece) }
        } catch {
            writer.refuse(document.shownPath, reason: error.reason, document: member)
            return
        }
        var held = routed[...]
        try write(member, path: document.path, pieces: { () throws(SpoolError) in held.popFirst() }, holdRows: true)
    }

    /// Writes one document, its files named after ``documentID(_:)``; a document with no text at all fails.
    private func write(
        _ document: RunDocument, path: String, pieces: () throws(SpoolError) -> RoutedDocument?, holdRows: Bool
    ) throws(SpoolError) {
        let written = try writer.write(document, path: path, input: relativePath, pieces: pieces, holdRows: holdRows, sinkError: { $0 })
        guard let written else {
            throw SpoolError(stage: .decode, path: path, reason: "the file is empty", disposition: .rejected)
        }
        for file in written.files { file.file.close() }
    }

    /// A document's id, and its result files' name: its path inside the input without the extension
    /// (`notas/n1.txt` → `notas/n1`).
    static func documentID(_ documentPath: String) -> String { InputKind.documentKey(documentPath) }

    /// The language named by the input's first folder under the inbox (`en/note.txt` → `en`), if any.
    static func languageFolder(_ relativePath: String) -> String? {
        let components = FilePath(relativePath).components
        guard components.count > 1, let first = components.first?.string, LanguageSetting.supported.contains(first) else {
            return nil
        }
        return first
    }
}

extension SpoolError {
    /// The spool's error for an input (or member) that cannot be read: rejected, unless a passing
    /// system error (disk full) is behind it.
    init(_ error: IngestError, path: String) {
        let stage: SpoolError.Stage
        switch error.stage {
        case .read: stage = .read
        case .decode: stage = .decode
        case .archive: stage = .archive
        }
        self.init(stage: stage, path: path, reason: error.reason, errno: error.errno, disposition: error.errno == nil ? .rejected : nil)
    }

    /// The spool's error for a document that gave no annotation.
    init(_ failure: AnnotatedDocument.Failure, path: String, shownPath: String) {
        switch failure {
        case .unreadable(let error): self.init(error, path: shownPath)
        case .annotation(let error):
            self.init(stage: .annotate, path: path, reason: "annotation failed: \(error)", disposition: .rejected)
        }
    }
}
