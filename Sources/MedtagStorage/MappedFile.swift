#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only and shared into memory; unmapped when released.
///
/// Nothing is read or parsed at open: pages come in on first touch and are shared with every
/// other process mapping the same file (two daemons share one copy of a model).
public final class MappedFile: @unchecked Sendable {
    // Safety: the mapping is PROT_READ and never written or remapped after init, so the pointer
    // may be read from any thread.

    /// Start of the mapping.
    public let base: UnsafeRawPointer
    /// Length of the file in bytes.
    public let count: Int
    /// Path of the mapped file.
    public let path: String

    /// Maps `path`. An empty file cannot be mapped and is refused.
    public init(path: String) throws(MappedFileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFileError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))", missing: errno == ENOENT) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MappedFileError(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        guard size > 0 else { throw MappedFileError(path: path, reason: "the file is empty", empty: true) }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), pointer != MAP_FAILED else {
            throw MappedFileError(path: path, reason: "cannot map it into memory: \(String(cString: strerror(errno)))")
        }
        self.base = UnsafeRawPointer(pointer)
        self.count = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }

    /// The bytes of the file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// A file that cannot be mapped.
public struct MappedFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    /// The file does not exist.
    public var missing = false
    /// The file exists but holds nothing.
    public var empty = false

    public var description: String { "\(path): \(reason)" }
}
