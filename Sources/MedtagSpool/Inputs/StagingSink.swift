#if canImport(Glibc)
import Glibc
#endif
import MedtagPipeline
import SystemPackage

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
