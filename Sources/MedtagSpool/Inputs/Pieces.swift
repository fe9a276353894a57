#if canImport(Glibc)
import Glibc
#endif
import MedtagFormats
import MedtagPipeline
import MedtagText
import SystemPackage

/// Gives a document's text one piece at a time; nil once the text is used up.
typealias PieceSource = () throws(SpoolError) -> String?

/// Gives a document's annotated pieces one at a time; nil once the document is used up.
typealias AnnotatedSource = () throws(SpoolError) -> RoutedDocument?

/// Result files in the staging folder, created new (with their folders) and written piece by piece.
final class ResultFiles {
    private var files: [(name: String, path: FilePath, descriptor: FileDescriptor)] = []

    /// Creates the (empty) files; `names` are relative to `folder` and may name sub-folders.
    init(folder: FilePath, names: [String]) throws(SpoolError) {
        for name in names {
            let path = folder.appending(name)
            do {
                try Sys.mkdirs(path.removingLastComponent())
                files.append((name, path, try Sys.createNewFile(path)))
            } catch {
                throw SpoolError(stage: .render, path: path.string, reason: "cannot write a result file", errno: error)
            }
        }
    }

    deinit { close() }

    /// Appends the bytes of each piece named like one of the files; other names are not for these files.
    func append(_ pieces: [(fileName: String, bytes: [UInt8])]) throws(SpoolError) {
        for piece in pieces where !piece.bytes.isEmpty {
            guard let file = files.first(where: { $0.name == piece.fileName }) else { continue }
            do { try Sys.writeAll(file.descriptor, piece.bytes) } catch {
                throw SpoolError(stage: .render, path: file.path.string, reason: "cannot write a result file", errno: error)
            }
        }
    }

    /// Closes the files once every piece is written. They are not flushed one by one: publishing
    /// the staging folder flushes all of an input's files at once (``Publisher/syncTree(_:)``).
    func finish() throws(SpoolError) {
        close()
    }

    func close() {
        for file in files { _ = Glibc.close(file.descriptor.rawValue) }
        files = []
    }
}
