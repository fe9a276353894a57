#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MedtagIngest
import MedtagPipeline
import MedtagStorage
import SystemPackage

// Every system call the spool makes goes through this file. Each wrapper retries on EINTR and
// reports failure as an `Errno`, so callers can tell "someone else took the file" (ENOENT) from
// "the disk is full" (ENOSPC) without parsing strings.

/// Runs `body` until it returns something other than -1 with EINTR.
@inline(__always)
func valueOrErrno(_ body: () -> CInt) throws(Errno) -> CInt {
    try call(body).get()
}

/// Runs `body` until it returns something other than -1 with EINTR; the outcome as a `Result`.
@inline(__always)
func call(_ body: () -> CInt) -> Result<CInt, Errno> {
    while true {
        let result = body()
        if result != -1 { return .success(result) }
        let code = Errno(rawValue: errno)
        if code != .interrupted { return .failure(code) }
    }
}

enum Sys {
    /// `rename(2)`: atomic within one filesystem, replaces a file of the same name.
    static func rename(_ from: FilePath, _ to: FilePath) throws(Errno) {
        _ = try from.withPlatformString { f in
            to.withPlatformString { t in call { Glibc.rename(f, t) } }
        }.get()
    }

    /// `link(2)`: makes `to` name the file `from` names; fails with EEXIST instead of replacing.
    static func link(_ from: FilePath, _ to: FilePath) throws(Errno) {
        _ = try from.withPlatformString { f in
            to.withPlatformString { t in call { Glibc.link(f, t) } }
        }.get()
    }

    /// Moves `from` to `to` unless `to` exists (EEXIST): `renameat2(RENAME_NOREPLACE)` where the
    /// kernel and filesystem offer it, else a check and a rename.
    static func renameNoReplace(_ from: FilePath, _ to: FilePath) throws(Errno) {
        if let renameat2 = Renameat2.function {
            let flags: UInt32 = 1  // RENAME_NOREPLACE
            let result = from.withPlatformString { f in
                to.withPlatformString { t in
                    call { renameat2(AT_FDCWD, f, AT_FDCWD, t, flags) }
                }
            }
            switch result {
            case .success: return
            case .failure(.invalidArgument), .failure(.notSupported): break  // filesystem without the flag
            case .failure(let error): throw error
            }
        }
        if exists(to) { throw Errno.fileExists }
        try rename(from, to)
    }

    /// Swaps two existing paths atomically (`renameat2(RENAME_EXCHANGE)`). Throws `.notSupported`
    /// when the kernel or filesystem cannot do it.
    static func exchange(_ a: FilePath, _ b: FilePath) throws(Errno) {
        guard let renameat2 = Renameat2.function else { throw Errno.notSupported }
        let flags: UInt32 = 2  // RENAME_EXCHANGE
        _ = try a.withPlatformString { f in
            b.withPlatformString { t in
                call { renameat2(AT_FDCWD, f, AT_FDCWD, t, flags) }
            }
        }.get()
    }

    static func unlink(_ path: FilePath) throws(Errno) {
        _ = try path.withPlatformString { p in call { Glibc.unlink(p) } }.get()
    }

    static func rmdir(_ path: FilePath) throws(Errno) {
        _ = try path.withPlatformString { p in call { Glibc.rmdir(p) } }.get()
    }

    /// `mkdir(2)`; an existing folder is not an error.
    static func mkdir(_ path: FilePath, mode: mode_t = 0o750) throws(Errno) {
        do {
            _ = try path.withPlatformString { p in call { Glibc.mkdir(p, mode) } }.get()
        } catch .fileExists {
            guard isDirectory(path) else { throw Errno.fileExists }
        }
    }

    /// Creates `path` and its missing parents. Returns the folders it created, outermost first, so
    /// the caller can make their entries durable.
    @discardableResult
    static func mkdirs(_ path: FilePath, mode: mode_t = 0o750) throws(Errno) -> [FilePath] {
        if isDirectory(path) { return [] }
        var created: [FilePath] = []
        var parent = path
        parent.removeLastComponent()
        if !parent.isEmpty, parent != path { created += try mkdirs(parent, mode: mode) }
        do {
            _ = try path.withPlatformString { p in call { Glibc.mkdir(p, mode) } }.get()
            created.append(path)
        } catch .fileExists {
            guard isDirectory(path) else { throw Errno.fileExists }
        }
        return created
    }

    /// Flushes a file or folder to stable storage.
    static func fsync(_ path: FilePath, directory: Bool) throws(Errno) {
        let fd = try open(path, flags: (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC)
        defer { _ = Glibc.close(fd) }
        _ = try valueOrErrno { Glibc.fsync(fd) }
    }

    /// Up to this many files are flushed one by one (`fsync`); more, in one `syncfs`.
    static let filesFlushedOneByOne = AtomicFile.filesFlushedOneByOne

    /// `syncfs(2)`: flushes everything written to the file system holding `path`.
    static func syncFileSystem(_ path: FilePath) throws(Errno) {
        do { try AtomicFile.syncFileSystem(holding: path.string) } catch { throw Errno(rawValue: error.code) }
    }

    static func fsync(_ fd: FileDescriptor) throws(Errno) {
        _ = try valueOrErrno { Glibc.fsync(fd.rawValue) }
    }

    static func open(_ path: FilePath, flags: CInt, mode: mode_t = 0) throws(Errno) -> CInt {
        try path.withPlatformString { p in call { Glibc.open(p, flags, mode) } }.get()
    }

    /// `lstat(2)`: information about the name itself, not what a symlink points to.
    static func lstat(_ path: FilePath) throws(Errno) -> stat {
        var st = stat()
        _ = try path.withPlatformString { p in call { Glibc.lstat(p, &st) } }.get()
        return st
    }

    static func exists(_ path: FilePath) -> Bool { (try? lstat(path)) != nil }

    static func isDirectory(_ path: FilePath) -> Bool {
        guard let st = try? lstat(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// One entry of a folder listing.
    struct DirectoryEntry: Sendable {
        enum Kind: Sendable { case file, directory, symlink, other, unknown }
        /// The name, with any bytes that are not UTF-8 shown as U+FFFD.
        var name: String
        var kind: Kind
        /// The name's bytes as stored.
        var rawName: [UInt8] = []
        /// False when the stored name is not valid UTF-8 (`name` then differs from it).
        var hasValidName: Bool { String(validating: rawName, as: UTF8.self) != nil }
    }

    /// Lists a folder without `.` and `..`, in name order so scans are deterministic.
    static func list(_ path: FilePath) throws(Errno) -> [DirectoryEntry] {
        let dir: OpaquePointer? = path.withPlatformString { opendir($0) }
        guard let dir else { throw Errno(rawValue: errno) }
        defer { closedir(dir) }
        var entries: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Errno(rawValue: errno) }
                break
            }
            let rawName = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                    Array(UnsafeBufferPointer(start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
                }
            }
            let name = String(decoding: rawName, as: UTF8.self)
            if name == "." || name == ".." { continue }
            let kind: DirectoryEntry.Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = .unknown
            default: kind = .other
            }
            entries.append(DirectoryEntry(name: name, kind: kind, rawName: rawName))
        }
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Removes a file or a whole folder tree; a missing path is not an error. Never follows symlinks.
    static func removeTree(_ path: FilePath) throws(Errno) {
        let st: stat
        do { st = try lstat(path) } catch .noSuchFileOrDirectory { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for entry in try list(path) { try removeTree(path.appending(entry.name)) }
            do { try rmdir(path) } catch .noSuchFileOrDirectory {}
        } else {
            do { try unlink(path) } catch .noSuchFileOrDirectory {}
        }
    }

    /// Writes `bytes` to a new file (which must not exist) and flushes it to disk.
    static func writeNewFile(_ path: FilePath, _ bytes: some Collection<UInt8>, mode: mode_t = 0o640) throws(Errno) {
        let descriptor = try createNewFile(path, mode: mode)
        defer { _ = Glibc.close(descriptor.rawValue) }
        try writeAll(descriptor, bytes)
        try fsync(descriptor)
    }

    /// Creates a file that must not exist yet (no symlink followed) and opens it for writing.
    static func createNewFile(_ path: FilePath, mode: mode_t = 0o640) throws(Errno) -> FileDescriptor {
        FileDescriptor(rawValue: try open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode: mode))
    }

    /// Writes all of `bytes`.
    static func writeAll(_ descriptor: FileDescriptor, _ bytes: some Collection<UInt8>) throws(Errno) {
        do {
            _ = try descriptor.writeAll(bytes)
        } catch let error as Errno {
            throw error
        } catch {
            throw Errno.ioError
        }
    }

    /// Replaces `path` with `bytes` atomically (see ``AtomicFile``), readable by the group only.
    static func writeFileAtomically(_ path: FilePath, _ bytes: some Collection<UInt8>) throws(Errno) {
        do { try AtomicFile.write(bytes, toPath: path.string, mode: 0o640) } catch { throw Errno(rawValue: error.code) }
    }

    /// Copies a regular file atomically (see ``AtomicFile``), readable by the group only.
    static func copyFile(_ source: FilePath, to target: FilePath) throws(Errno) {
        do { try AtomicFile.copy(source.string, toPath: target.string, mode: 0o640) } catch { throw Errno(rawValue: error.code) }
    }

    /// Reads at most `limit` bytes of a regular file, refusing symlinks. Throws `.fileTooLarge` past it.
    static func readFile(_ path: FilePath, limit: Int) throws(Errno) -> [UInt8] {
        try InputFile.read(path, limit: limit)
    }

    /// Renames `name` (raw bytes, possibly not UTF-8) inside `folder` to `to`, refusing to replace
    /// (see ``renameNoReplace(_:_:)``).
    static func renameRaw(in folder: FilePath, name: [UInt8], to target: FilePath) throws(Errno) {
        let source = (Array(folder.string.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
        try renameNoReplace(source.withUnsafeBufferPointer { FilePath(platformString: $0.baseAddress!) }, target)
    }

    /// Takes an exclusive `flock(2)` on an open descriptor without waiting. Returns false when
    /// another process holds it.
    static func tryLock(_ fd: CInt) throws(Errno) -> Bool {
        do {
            _ = try valueOrErrno { flock(fd, LOCK_EX | LOCK_NB) }
            return true
        } catch .wouldBlock {
            return false
        }
    }
}

extension Sys {
    private static let attemptsName = "user.medtag.attempts"
    private static let progressName = "user.medtag.progress"

    /// Unfinished attempts recorded on a claimed input (an extended attribute, which stays with the
    /// file through renames): 0 when none; nil when the file system keeps no extended attributes.
    static func attempts(_ path: FilePath) -> Int? {
        guard let text = attribute(path, attemptsName) else { return Xattr.get == nil || errno != ENODATA ? nil : 0 }
        return Int(text) ?? 0
    }

    /// Records `value` attempts on the file; false when the file system cannot.
    @discardableResult
    static func setAttempts(_ path: FilePath, _ value: Int) -> Bool { setAttribute(path, attemptsName, String(value)) }

    /// Forgets the attempts recorded on the file, and the progress of the attempt that ended.
    static func clearAttempts(_ path: FilePath) {
        removeAttribute(path, attemptsName)
        removeAttribute(path, progressName)
    }

    /// How far the work on a claimed input is (`medtag status` shows it), nil when not recorded.
    static func progress(_ path: FilePath) -> String? { attribute(path, progressName) }

    /// Records how far the work on a claimed input is; ``clearAttempts(_:)`` forgets it.
    static func setProgress(_ path: FilePath, _ text: String) { setAttribute(path, progressName, text) }

    /// An extended attribute's value; nil when absent (`errno` ENODATA) or unsupported.
    private static func attribute(_ path: FilePath, _ name: String) -> String? {
        guard let get = Xattr.get else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = path.withPlatformString { p in
            buffer.withUnsafeMutableBytes { get(p, name, $0.baseAddress, $0.count) }
        }
        return count < 0 ? nil : String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    @discardableResult
    private static func setAttribute(_ path: FilePath, _ name: String, _ value: String) -> Bool {
        guard let set = Xattr.set else { return false }
        let bytes = Array(value.utf8)
        return path.withPlatformString { p in
            bytes.withUnsafeBytes { set(p, name, $0.baseAddress, $0.count, 0) }
        } == 0
    }

    private static func removeAttribute(_ path: FilePath, _ name: String) {
        guard let remove = Xattr.remove else { return }
        _ = path.withPlatformString { remove($0, name) }
    }
}

/// `lgetxattr`, `lsetxattr` and `lremovexattr` (`<sys/xattr.h>` is not in the Swift Glibc module).
private enum Xattr {
    typealias Get = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias Set = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, CInt) -> CInt
    typealias Remove = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> CInt
    static let get: Get? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lgetxattr").map { unsafeBitCast($0, to: Get.self) }
    static let set: Set? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lsetxattr").map { unsafeBitCast($0, to: Set.self) }
    static let remove: Remove? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lremovexattr").map {
        unsafeBitCast($0, to: Remove.self)
    }
}

/// `renameat2` is in glibc since 2.28 but not in the Swift Glibc module: look it up once at run time.
private enum Renameat2 {
    typealias Function = @convention(c) (CInt, UnsafePointer<CChar>, CInt, UnsafePointer<CChar>, UInt32) -> CInt
    static let function: Function? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}
