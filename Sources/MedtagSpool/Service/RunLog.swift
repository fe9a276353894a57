#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import SystemPackage

/// The daily JSON-lines log: `<folder>/medtag-YYYY-MM-DD.jsonl`, one record per input.
///
/// Each record is one `write(2)` to a file opened with `O_APPEND`, so records from several
/// daemons sharing a spool never interleave inside a line.
final class RunLog: Sendable {
    private let folder: FilePath
    private let lock = Mutex<Void>(())

    init(folder: FilePath) { self.folder = folder }

    /// The log file for the given day.
    func file(day: String = Timestamp.day()) -> FilePath { folder.appending("medtag-\(day).jsonl") }

    func append(_ record: RunRecord) throws(Errno) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record) else { return }
        let line = Array(data) + [0x0A]
        try lock.withLock { _ throws(Errno) in
            try Sys.mkdirs(folder)
            let fd = try Sys.open(file(), flags: O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640)
            defer { _ = close(fd) }
            _ = try line.withUnsafeBytes { raw in
                call { CInt(write(fd, raw.baseAddress, raw.count)) }
            }.get()
        }
    }
}
