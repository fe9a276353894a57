#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// Reading input files: symbolic links are never followed, interrupted calls are retried and
/// failures are reported as an `Errno`.
public enum InputFile {
    /// Opens a file for reading, refusing symlinks; with its size.
    public static func openForReading(_ path: FilePath) throws(Errno) -> (descriptor: FileDescriptor, size: Int) {
        let fd = try retrying { path.withPlatformString { Glibc.open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) } }
        var st = stat()
        do { _ = try retrying { fstat(fd, &st) } } catch {
            _ = Glibc.close(fd)
            throw error
        }
        return (FileDescriptor(rawValue: fd), Int(st.st_size))
    }

    /// Reads up to `count` bytes onto the end of `buffer`; how many were read (0 at the end of the file).
    public static func readAppending(_ descriptor: FileDescriptor, to buffer: inout [UInt8], count: Int) throws(Errno) -> Int {
        var failure: Errno?
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            do throws(Errno) {
                initialized = Int(try retrying { CInt(Glibc.read(descriptor.rawValue, bytes.baseAddress, count)) })
            } catch {
                initialized = 0
                failure = error
            }
        }
        if let failure { throw failure }
        buffer.append(contentsOf: chunk)
        return chunk.count
    }

    /// Reads at most `limit` bytes of a regular file, refusing symlinks. Throws `.fileTooLarge` past it.
    public static func read(_ path: FilePath, limit: Int) throws(Errno) -> [UInt8] {
        let (descriptor, size) = try openForReading(path)
        defer { _ = Glibc.close(descriptor.rawValue) }
        if size > limit { throw Errno.fileTooLarge }
        var result: [UInt8] = []
        result.reserveCapacity(size)
        while try readAppending(descriptor, to: &result, count: 1 << 16) > 0 {
            if result.count > limit { throw Errno.fileTooLarge }
        }
        return result
    }

    /// Runs `body` until it returns something other than -1 with EINTR.
    private static func retrying(_ body: () -> CInt) throws(Errno) -> CInt {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = Errno(rawValue: errno)
            if code != .interrupted { throw code }
        }
    }
}
