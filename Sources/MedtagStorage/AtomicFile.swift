import CLinux
import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Why a file could not be written into place: the file, the step and the system's reason.
public struct AtomicFileError: Error, CustomStringConvertible, Sendable {
    /// The file concerned (the temporary while it is written, the target when it is renamed).
    public var path: String
    /// What failed, in words (`cannot write`).
    public var what: String
    /// The `errno` behind it.
    public var code: CInt

    public var description: String { "\(path): \(what): \(String(cString: strerror(code)))" }
}

/// Writing files so that a reader never sees half of one: temp name, fsync, rename, fsync folder.
/// The one atomic writer: result files, tables, reports, manifests and copies all go through it.
public enum AtomicFile {
    /// Files flushed together are flushed one by one (`fsync`) up to this many; more, in one
    /// `syncfs(2)` of their file system, which also flushes what others wrote there.
    public static let filesFlushedOneByOne = 16

    /// Writes `bytes` to `url` atomically, creating the folder if needed.
    public static func write(_ bytes: [UInt8], to url: URL) throws(AtomicFileError) {
        try write(bytes, toPath: url.path)
    }

    /// Writes `bytes` to `path` atomically with permissions `mode`, creating the folder if needed.
    public static func write(_ bytes: some Collection<UInt8>, toPath path: String, mode: mode_t = 0o644) throws(AtomicFileError) {
        let writer = try Writer(path: path, mode: mode, checksum: false)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Copies the file `source` (not following a symbolic link) to `path` atomically with
    /// permissions `mode`.
    public static func copy(_ source: String, toPath path: String, mode: mode_t = 0o644) throws(AtomicFileError) {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { throw failure("cannot read", source) }
        defer { close(input) }
        let writer = try Writer(path: path, mode: mode, checksum: false)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", source)
            }
            if count == 0 { break }
            try writer.write(buffer[..<count])
        }
        try writer.commit()
    }

    /// A file written in parts under a temporary name and renamed into place by ``commit()``;
    /// dropped (the temporary removed) if never committed.
    public final class Writer {
        /// Where the file appears on ``commit()``.
        public var url: URL { URL(fileURLWithPath: path) }
        private let path: String
        private let temporary: String
        private var fd: CInt
        private var hasher: SHA256.Hasher?
        /// Bytes written so far.
        public private(set) var count = 0

        /// Creates the folder if needed and opens the temporary file.
        public convenience init(url: URL) throws(AtomicFileError) {
            try self.init(path: url.path)
        }

        /// Creates the folder if needed and opens the temporary file, with permissions `mode`.
        /// With `checksum`, ``commit()`` and ``Batch/add(_:)`` give the SHA-256 of what was written.
        public init(path: String, mode: mode_t = 0o644, checksum: Bool = true) throws(AtomicFileError) {
            self.path = path
            let file = FilePath(path)
            let folder = file.removingLastComponent().string
            let name = file.lastComponent?.string ?? path
            try AtomicFile.makeFolders(folder)
            temporary = (folder.isEmpty ? "" : folder + "/") + AtomicFile.temporaryName(for: name, pid: getpid())
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
            guard fd >= 0 else { throw AtomicFile.failure("cannot create", temporary) }
            hasher = checksum ? SHA256.Hasher() : nil
        }

        deinit {
            if fd >= 0 {
                close(fd)
                unlink(temporary)
            }
        }

        /// Appends bytes.
        public func write(_ bytes: some Collection<UInt8>) throws(AtomicFileError) {
            precondition(fd >= 0, "written after commit")
            let result: Result<Void, AtomicFileError>? = bytes.withContiguousStorageIfAvailable { buffer in
                append(UnsafeRawBufferPointer(buffer))
            }
            if let result { try result.get() } else { try append(Array(bytes)).get() }
            count += bytes.count
        }

        private func append(_ bytes: [UInt8]) -> Result<Void, AtomicFileError> {
            bytes.withUnsafeBytes { append($0) }
        }

        private func append(_ buffer: UnsafeRawBufferPointer) -> Result<Void, AtomicFileError> {
            var written = 0
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failure(AtomicFile.failure("cannot write", temporary))
                }
                written += n
            }
            hasher?.update(buffer)
            return .success(())
        }

        /// Flushes the file, renames it into place and flushes the folder; returns the SHA-256 of
        /// what was written (empty without `checksum`).
        @discardableResult
        public func commit() throws(AtomicFileError) -> String {
            defer {
                close(fd)
                fd = -1
            }
            guard fsync(fd) == 0 else {
                let error = AtomicFile.failure("cannot sync", temporary)
                unlink(temporary)
                throw error
            }
            guard rename(temporary, path) == 0 else {
                let error = AtomicFile.failure("cannot rename into place", path)
                unlink(temporary)
                throw error
            }
            try AtomicFile.syncFolder(of: path)
            return hasher?.finalize() ?? ""
        }

        /// Hands the open temporary file over to a ``Batch``: its descriptor, where it goes, its SHA-256.
        fileprivate func release() -> (temporary: String, path: String, fd: CInt, sha256: String) {
            precondition(fd >= 0, "released after commit")
            defer { fd = -1 }
            return (temporary, path, fd, hasher?.finalize() ?? "")
        }
    }

    /// Files put in place together (group commit): each is written under its temporary name, then
    /// ``commit()`` flushes them (past ``filesFlushedOneByOne``, in one `syncfs(2)` of the file system
    /// holding them), renames them all into place and flushes each folder once. A reader never sees half a file, as with
    /// ``Writer/commit()``, and many small files cost one flush instead of one each.
    public final class Batch {
        private var files: [(temporary: String, path: String, fd: CInt)] = []

        public init() {}

        /// Files waiting for ``commit()``.
        public var count: Int { files.count }

        /// Takes a fully written file, which appears on the next ``commit()``; returns its SHA-256.
        public func add(_ writer: Writer) -> String {
            let file = writer.release()
            files.append((file.temporary, file.path, file.fd))
            return file.sha256
        }

        /// Flushes the files, renames them into place and flushes their folders.
        public func commit() throws(AtomicFileError) {
            guard !files.isEmpty else { return }
            defer { drop() }
            var synced: Set<UInt64> = []
            for file in files {
                guard files.count > filesFlushedOneByOne else {
                    guard fsync(file.fd) == 0 else { throw failure("cannot sync", file.temporary) }
                    continue
                }
                var st = stat()
                guard fstat(file.fd, &st) == 0 else { throw failure("cannot sync", file.temporary) }
                guard synced.insert(UInt64(st.st_dev)).inserted else { continue }
                guard syncfs(file.fd) == 0 else { throw failure("cannot sync", file.temporary) }
            }
            var folders: Set<String> = []
            for file in files {
                guard rename(file.temporary, file.path) == 0 else { throw failure("cannot rename into place", file.path) }
                folders.insert(FilePath(file.path).removingLastComponent().string)
            }
            for folder in folders.sorted() { try syncDirectory(folder.isEmpty ? "." : folder) }
        }

        /// Closes the files; those not renamed into place are removed.
        private func drop() {
            for file in files {
                close(file.fd)
                unlink(file.temporary)
            }
            files = []
        }

        deinit { drop() }
    }

    /// The name a file `name` is written under before it is renamed into place: `.NAME.PID.tmp`.
    /// When that would pass the 255-byte limit of a file name, NAME is cut (at a character) and a
    /// hash of the whole name added, so a long name can still be written and two long names that
    /// start alike never share a temporary.
    static func temporaryName(for name: String, pid: pid_t) -> String {
        let suffix = ".\(pid).tmp"
        let whole = "." + name + suffix
        guard whole.utf8.count > nameLimit else { return whole }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let tag = "~" + String(hash, radix: 16)
        let room = nameLimit - 1 - tag.utf8.count - suffix.utf8.count
        var prefix = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            bytes += UTF8.width(scalar)
            guard bytes <= room else { break }
            prefix.append(scalar)
        }
        return "." + String(prefix) + tag + suffix
    }

    /// The longest file name the file systems medtag writes to take, in bytes (`NAME_MAX`).
    static let nameLimit = 255

    /// `syncfs(2)` of the file system holding `path`: flushes everything written to it.
    public static func syncFileSystem(holding path: String) throws(AtomicFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open to sync", path) }
        defer { close(fd) }
        guard syncfs(fd) == 0 else { throw failure("cannot sync the file system", path) }
    }

    /// fsyncs a folder so that renames inside it survive a crash.
    public static func syncDirectory(_ url: URL) throws(AtomicFileError) {
        try syncDirectory(url.path)
    }

    /// fsyncs the folder at `path` so that renames inside it survive a crash.
    public static func syncDirectory(_ path: String) throws(AtomicFileError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open the folder to sync it", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync the folder", path) }
    }

    /// Creates `folder` and its missing parents (permissions as the umask leaves them).
    static func makeFolders(_ folder: String) throws(AtomicFileError) {
        guard !folder.isEmpty, mkdir(folder, 0o777) != 0 else { return }
        switch errno {
        case EEXIST:
            var st = stat()
            guard stat(folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw failure("cannot create the folder", folder) }
        case ENOENT:
            try makeFolders(FilePath(folder).removingLastComponent().string)
            guard mkdir(folder, 0o777) == 0 || errno == EEXIST else { throw failure("cannot create the folder", folder) }
        default:
            throw failure("cannot create the folder", folder)
        }
    }

    private static func syncFolder(of path: String) throws(AtomicFileError) {
        let folder = FilePath(path).removingLastComponent().string
        try syncDirectory(folder.isEmpty ? "." : folder)
    }

    static func failure(_ what: String, _ path: String) -> AtomicFileError {
        AtomicFileError(path: path, what: what, code: errno)
    }
}
