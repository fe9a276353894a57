import Foundation
import MedtagStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Writing files so that a reader never sees half of one: temp name, fsync, rename, fsync folder.
public enum AtomicFile {
    /// Files flushed together are flushed one by one (`fsync`) up to this many; more, in one
    /// `syncfs(2)` of their file system, which also flushes what others wrote there.
    public static let filesFlushedOneByOne = 16

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

        /// Hands the open temporary file over to a ``Batch``: its descriptor, where it goes, its SHA-256.
        fileprivate func release() -> (temporary: URL, url: URL, fd: CInt, sha256: String) {
            precondition(fd >= 0, "released after commit")
            defer { fd = -1 }
            return (temporary, url, fd, hasher.finalize())
        }
    }

    /// Files put in place together (group commit): each is written under its temporary name, then
    /// ``commit()`` flushes them (past ``filesFlushedOneByOne``, in one `syncfs(2)` of the file system
    /// holding them), renames them all into place and flushes each folder once. A reader never sees half a file, as with
    /// ``Writer/commit()``, and many small files cost one flush instead of one each.
    public final class Batch {
        private var files: [(temporary: URL, url: URL, fd: CInt)] = []

        public init() {}

        /// Files waiting for ``commit()``.
        public var count: Int { files.count }

        /// Takes a fully written file, which appears on the next ``commit()``; returns its SHA-256.
        public func add(_ writer: Writer) -> String {
            let file = writer.release()
            files.append((file.temporary, file.url, file.fd))
            return file.sha256
        }

        /// Flushes the files, renames them into place and flushes their folders.
        public func commit() throws {
            guard !files.isEmpty else { return }
            defer { drop() }
            var synced: Set<UInt64> = []
            for file in files {
                guard files.count > filesFlushedOneByOne else {
                    guard fsync(file.fd) == 0 else { throw posixError("cannot sync", file.temporary) }
                    continue
                }
                var st = stat()
                guard fstat(file.fd, &st) == 0 else { throw posixError("cannot sync", file.temporary) }
                guard synced.insert(UInt64(st.st_dev)).inserted else { continue }
                guard syncFileSystem(file.fd) == 0 else { throw posixError("cannot sync", file.temporary) }
            }
            var folders: [String: URL] = [:]
            for file in files {
                guard rename(file.temporary.path, file.url.path) == 0 else { throw posixError("cannot rename into place", file.url) }
                let folder = file.url.deletingLastPathComponent()
                folders[folder.path] = folder
            }
            for folder in folders.values.sorted(by: { $0.path < $1.path }) { syncDirectory(folder) }
        }

        /// Closes the files; those not renamed into place are removed.
        private func drop() {
            for file in files {
                close(file.fd)
                unlink(file.temporary.path)
            }
            files = []
        }

        deinit { drop() }
    }

    /// `syncfs(2)`: flushes everything written to the file system holding the open file `fd`;
    /// 0, or -1 with `errno` set.
    public static func syncFileSystem(_ fd: CInt) -> CInt { linuxSyncfs(fd) }

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

/// glibc's `syncfs`, which the Glibc module leaves out (it is declared only with `_GNU_SOURCE`).
@_silgen_name("syncfs")
private func linuxSyncfs(_ fd: CInt) -> CInt
