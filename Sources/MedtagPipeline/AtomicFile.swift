import Foundation
import MedtagStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Writing files so that a reader never sees half of one: temp name, fsync, rename, fsync folder.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically, creating the folder if needed.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let writer = try Writer(url: url)
        try writer.write(bytes)
        try writer.commit()
    }

    /// A file written in parts under a temporary name and renamed into place by ``commit()``;
    /// dropped (the temporary removed) if never committed.
    public final class Writer {
        /// Where the file appears on ``commit()``.
        public let url: URL
        private let temporary: URL
        private var fd: CInt
        private var hasher = SHA256.Hasher()
        /// Bytes written so far.
        public private(set) var count = 0

        /// Creates the folder if needed and opens the temporary file.
        public init(url: URL) throws {
            self.url = url
            let directory = url.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
            fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw posixError("cannot create", temporary) }
        }

        deinit {
            if fd >= 0 {
                close(fd)
                unlink(temporary.path)
            }
        }

        /// Appends bytes.
        public func write(_ bytes: [UInt8]) throws {
            precondition(fd >= 0, "written after commit")
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { buffer in Glibc.write(fd, buffer.baseAddress! + written, bytes.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw posixError("cannot write", temporary)
                }
                written += n
            }
            hasher.update(bytes)
            count += bytes.count
        }

        /// Flushes the file, renames it into place and flushes the folder; returns the SHA-256 of what was written.
        @discardableResult
        public func commit() throws -> String {
            defer {
                close(fd)
                fd = -1
            }
            guard fsync(fd) == 0 else {
                let error = posixError("cannot sync", temporary)
                unlink(temporary.path)
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                let error = posixError("cannot rename into place", url)
                unlink(temporary.path)
                throw error
            }
            syncDirectory(url.deletingLastPathComponent())
            return hasher.finalize()
        }
    }

    /// fsyncs a folder so that renames inside it survive a crash.
    public static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func posixError(_ what: String, _ url: URL) -> NSError {
        let code = errno
        return NSError(
            domain: NSPOSIXErrorDomain, code: Int(code),
            userInfo: [NSLocalizedDescriptionKey: "\(url.path): \(what): \(String(cString: strerror(code)))"])
    }
}
