import Foundation
import MedtagFormats
import MedtagStorage

/// Where result files go: the daemon's staging folder, published whole once an input is done, or
/// an output folder (`medtag annotate`, a shard's folder), where files appear a batch at a time.
///
/// Both flush many files at once (group commit) before anything becomes visible, so a crash leaves
/// either no result or a whole one. Documents' files (``DocumentResultFiles``) and the run's tables
/// (``ResultTables``) are written through it.
public protocol ResultSink {
    associatedtype File
    associatedtype Failure: Error
    /// Creates the result file `name`, a path relative to the sink (its folders are created).
    func create(_ name: String) throws(Failure) -> File
    /// Appends bytes to a file made by ``create(_:)``.
    func append(_ bytes: [UInt8], to file: File) throws(Failure)
}

/// One document's result files, written to a sink as its annotated pieces come (see
/// ``PieceAnnotation``): the files are created with the first piece, and every piece's bytes are
/// appended to them. The rows of the run's tables (``ResultTable``) are handed back to the caller,
/// which keeps the tables.
public struct DocumentResultFiles<Sink: ResultSink> {
    public private(set) var annotation: PieceAnnotation
    /// The document's files, by name, in a stable order; empty before the first piece.
    public private(set) var files: [(name: String, file: Sink.File)] = []
    private let sink: Sink

    public init(_ annotation: PieceAnnotation, sink: Sink) {
        self.annotation = annotation
        self.sink = sink
    }

    /// Renders one more piece into the document's files; returns its rows for the run's tables.
    public mutating func write(_ piece: RoutedDocument) throws(Sink.Failure) -> [(fileName: String, bytes: [UInt8])] {
        let rendered = annotation.render(piece)
        if files.isEmpty {
            for part in rendered where !ResultTable.isTable(part.fileName) {
                files.append((part.fileName, try sink.create(part.fileName)))
            }
        }
        var rows: [(fileName: String, bytes: [UInt8])] = []
        for part in rendered {
            if ResultTable.isTable(part.fileName) {
                rows.append(part)
            } else if !part.bytes.isEmpty, let file = files.first(where: { $0.name == part.fileName }) {
                try sink.append(part.bytes, to: file.file)
            }
        }
        return rows
    }
}

/// An output folder: each file is written under a temporary name and appears under its own when
/// ``commit()`` has flushed the files finished so far to disk, with one flush for all of them.
public final class FolderSink: ResultSink {
    public let folder: URL
    private let batch = AtomicFile.Batch()

    public init(folder: URL) {
        self.folder = folder
    }

    public func create(_ name: String) throws(AtomicFileError) -> AtomicFile.Writer {
        try AtomicFile.Writer(url: folder.appendingPathComponent(name))
    }

    public func append(_ bytes: [UInt8], to file: AtomicFile.Writer) throws(AtomicFileError) {
        try file.write(bytes)
    }

    /// Queues a fully written file for the next ``commit()``; returns its SHA-256.
    public func finish(_ file: AtomicFile.Writer) -> String { batch.add(file) }

    /// Files finished but not yet committed.
    public var pending: Int { batch.count }

    /// Flushes the finished files and renames them into place.
    public func commit() throws(AtomicFileError) { try batch.commit() }
}
