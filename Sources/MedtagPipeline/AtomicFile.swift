import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writing files so that a reader never sees half of one: temp name, fsync, rename, fsync folder.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically, creating the folder if needed.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("cannot create", temp) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + written, bytes.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let error = posixError("cannot write", temp)
                close(fd)
                unlink(temp.path)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 {
            let error = posixError("cannot sync", temp)
            close(fd)
            unlink(temp.path)
            throw error
        }
        close(fd)
        guard rename(temp.path, url.path) == 0 else {
            let error = posixError("cannot rename into place", url)
            unlink(temp.path)
            throw error
        }
        syncDirectory(directory)
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
