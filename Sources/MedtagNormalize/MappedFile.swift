#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only memory mapping of a whole file. Pages are read on first touch,
/// so opening a large lexicon costs no parsing.
public final class MappedFile: @unchecked Sendable {
    // Safety: the mapping is PROT_READ and never written or remapped after init,
    // so sharing the pointer between threads is safe.
    /// The mapped bytes.
    public let bytes: UnsafeRawBufferPointer
    /// The file the bytes come from.
    public let path: String

    /// Maps `path` read-only.
    public init(path: String) throws(LexiconError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw .io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw .io(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
