#if canImport(Glibc)
import Glibc
#endif
import MedtagFormats
import MedtagPipeline
import MedtagText
import SystemPackage

/// Gives a document's annotated pieces one at a time; nil once the document is used up.
typealias AnnotatedSource = () throws(SpoolError) -> RoutedDocument?

/// The daemon's result sink: an input's staging folder, whose files are created new (with their
/// folders) and written piece by piece. They are not flushed one by one: publishing the staging
/// folder flushes all of an input's files at once (``Publisher/syncTree(_:)``), then renames it
/// into the outbox.
struct StagingSink: ResultSink {
    /// An open result file; closed when the last reference goes.
    final class File {
        let path: FilePath
        private(set) var descriptor: FileDescriptor?

        init(path: FilePath, descriptor: FileDescriptor) {
            self.path = path
            self.descriptor = descriptor
        }

        deinit { close() }

        func close() {
            if let descriptor { _ = Glibc.close(descriptor.rawValue) }
            descriptor = nil
        }
    }

    let folder: FilePath

    func create(_ name: String) throws(SpoolError) -> File {
        let path = folder.appending(name)
        do {
            try Sys.mkdirs(path.removingLastComponent())
            return File(path: path, descriptor: try Sys.createNewFile(path))
        } catch {
            throw SpoolError(stage: .render, path: path.string, reason: "cannot write a result file", errno: error)
        }
    }

    func append(_ bytes: [UInt8], to file: File) throws(SpoolError) {
        guard let descriptor = file.descriptor else {
            throw SpoolError(stage: .render, path: file.path.string, reason: "a result file was written after it was closed")
        }
        do { try Sys.writeAll(descriptor, bytes) } catch {
            throw SpoolError(stage: .render, path: file.path.string, reason: "cannot write a result file", errno: error)
        }
    }
}

/// An input's tables (``ResultTable``) in its staging folder, open for the whole input: every
/// document appends its rows.
final class ResultTableFiles {
    private var files: [(name: String, file: StagingSink.File)] = []
    private let sink: StagingSink

    /// Creates the tables named `names` in `folder`, each with its header.
    init(folder: FilePath, names: [String]) throws(SpoolError) {
        sink = StagingSink(folder: folder)
        for name in names {
            let file = try sink.create(name)
            files.append((name, file))
            try sink.append(ResultTable.header(name), to: file)
        }
    }

    /// Appends the rows of each table named in `rows`; other names are not tables of this input.
    func append(_ rows: [(fileName: String, bytes: [UInt8])]) throws(SpoolError) {
        for row in rows where !row.bytes.isEmpty {
            guard let file = files.first(where: { $0.name == row.fileName }) else { continue }
            try sink.append(row.bytes, to: file.file)
        }
    }

    func close() {
        for file in files { file.file.close() }
        files = []
    }
}
