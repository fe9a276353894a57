import CArchive
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// One entry of an archive as the reader saw it, before its content is read.
struct ArchiveMember: Sendable {
    enum Kind: Sendable, Equatable { case file, directory, symlink, hardlink, special }
    /// The name as stored in the archive.
    var rawPath: String
    /// Why the name could not be read (libarchive's words), when it could not; `rawPath` is then empty.
    var unreadableName: String?
    var kind: Kind
    /// Declared size, when the format records it.
    var declaredSize: Int?
}

/// Why an archive as a whole was given up (as opposed to one member being refused).
struct ArchiveFailure: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// Streams the members of a tar (plain, gzip, bzip2, xz, zstd, lz4) or zip archive through libarchive.
///
/// Only one member's content is in memory at a time, and never more than the member limit. The
/// reader keeps count of the bytes it expands and stops the whole archive when the total size or the
/// expansion ratio passes the configured limits (zip bombs).
final class ArchiveReader {
    private let handle: OpaquePointer
    private let limits: ArchiveLimits
    private var memory: UnsafeMutableRawBufferPointer?
    private let name: String
    private(set) var memberCount = 0
    private(set) var expandedBytes = 0

    /// Opens an archive file.
    init(path: FilePath, limits: ArchiveLimits) throws(ArchiveFailure) {
        guard let handle = archive_read_new() else { throw ArchiveFailure(reason: "cannot allocate an archive reader") }
        self.handle = handle
        self.limits = limits
        self.name = path.lastComponent?.string ?? path.string
        Self.configure(handle)
        let status = path.withPlatformString { archive_read_open_filename(handle, $0, 1 << 16) }
        if status != ARCHIVE_OK { throw ArchiveFailure(reason: "not a readable archive: \(errorString)") }
    }

    /// Opens an archive held in memory (an archive inside an archive).
    init(bytes: [UInt8], name: String, limits: ArchiveLimits) throws(ArchiveFailure) {
        guard let handle = archive_read_new() else { throw ArchiveFailure(reason: "cannot allocate an archive reader") }
        self.handle = handle
        self.limits = limits
        self.name = name
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        buffer.copyBytes(from: bytes)
        self.memory = buffer
        Self.configure(handle)
        let status = archive_read_open_memory(handle, buffer.baseAddress, bytes.count)
        if status != ARCHIVE_OK { throw ArchiveFailure(reason: "not a readable archive: \(errorString)") }
    }

    deinit {
        archive_read_free(handle)
        memory?.deallocate()
    }

    private static func configure(_ handle: OpaquePointer) {
        archive_read_support_filter_all(handle)
        archive_read_support_format_tar(handle)
        archive_read_support_format_gnutar(handle)
        archive_read_support_format_zip(handle)
    }

    private var errorString: String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    /// The next member's header, or nil at the end of the archive.
    /// Bytes of the archive read so far (compressed, as stored).
    var bytesRead: Int { max(Int(archive_filter_bytes(handle, -1)), 0) }

    func nextMember() throws(ArchiveFailure) -> ArchiveMember? {
        try withUTF8Names { () throws(ArchiveFailure) -> ArchiveMember? in try readHeader() }
    }

    /// A C locale with UTF-8 characters. libarchive converts member names to the character set of
    /// the C library's current locale, which is ASCII in a process that never set one (the daemon
    /// under systemd, a test runner): a zip member whose name is marked UTF-8 and holds an `é` would
    /// come back without a name. Headers are read under this locale, set for the calling thread only.
    nonisolated(unsafe) private static let utf8Locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    private func withUTF8Names<T>(_ body: () throws(ArchiveFailure) -> T) throws(ArchiveFailure) -> T {
        guard let locale = Self.utf8Locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }

    private func readHeader() throws(ArchiveFailure) -> ArchiveMember? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw ArchiveFailure(reason: "archive damaged after \(memberCount) members: \(errorString)")
        }
        memberCount += 1
        if memberCount > limits.maxMembers {
            throw ArchiveFailure(reason: "more than \(limits.maxMembers) members (archive_max_members)")
        }
        let rawPath: String
        var unreadableName: String?
        if let utf8 = archive_entry_pathname_utf8(entry) {
            rawPath = String(cString: utf8)
        } else if let plain = archive_entry_pathname(entry) {
            rawPath = String(cString: plain)
        } else {
            rawPath = ""
            unreadableName = status == ARCHIVE_WARN ? errorString : "the archive gives it no name"
        }
        let kind: ArchiveMember.Kind
        if archive_entry_hardlink(entry) != nil {
            kind = .hardlink
        } else {
            switch UInt32(archive_entry_filetype(entry)) & 0o170000 {
            case 0o100000: kind = .file
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink
            default: kind = .special
            }
        }
        let size = archive_entry_size_is_set(entry) != 0 ? Int(archive_entry_size(entry)) : nil
        return ArchiveMember(rawPath: rawPath, unreadableName: unreadableName, kind: kind, declaredSize: size)
    }

    /// Reads the current member's content. Returns nil (and skips the rest) when it is larger than the
    /// member limit; throws when the archive as a whole passes its limits or is damaged.
    func readMember() throws(ArchiveFailure) -> [UInt8]? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if count == Int(ARCHIVE_WARN) { continue }
                throw ArchiveFailure(reason: "archive damaged while reading member \(memberCount): \(errorString)")
            }
            expandedBytes += count
            try checkTotals()
            if data.count + count > limits.maxMemberBytes {
                // Count what remains too, so a bomb cannot hide behind a refused member.
                try skipRest()
                return nil
            }
            data.append(contentsOf: chunk[0..<count])
        }
        return data
    }

    private func skipRest() throws(ArchiveFailure) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
            if count == 0 { return }
            if count < 0 {
                throw ArchiveFailure(reason: "archive damaged while reading member \(memberCount): \(errorString)")
            }
            expandedBytes += count
            try checkTotals()
        }
    }

    private func checkTotals() throws(ArchiveFailure) {
        if expandedBytes > limits.maxTotalBytes {
            throw ArchiveFailure(reason: "expands to more than \(limits.maxTotalBytes) bytes (archive_max_total_size)")
        }
        let compressed = max(Int(archive_filter_bytes(handle, -1)), 1)
        if expandedBytes > 1 << 20, expandedBytes / compressed > limits.maxRatio {
            throw ArchiveFailure(
                reason: "expansion ratio above \(limits.maxRatio):1 (archive_max_ratio); looks like a compression bomb")
        }
    }
}

/// What the spool does with an archive member's name.
enum MemberPath {
    /// A safe relative path (components without `.`, `..` or empty parts).
    case accepted(String)
    /// A directory entry or `./`: nothing to do.
    case skipped
    case refused(String)

    /// Checks a member name. Absolute paths and `..` are refused, never rewritten.
    static func check(_ raw: String) -> MemberPath {
        if raw.hasPrefix("/") { return .refused("absolute path") }
        if raw.utf8.contains(0) { return .refused("NUL in the name") }
        var components: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return .refused("path leaves the archive (`..`)") }
            if component.hasPrefix(".") { return .refused("hidden name `\(component)`") }
            if component.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                return .refused("control character in the name")
            }
            components.append(component)
        }
        if components.isEmpty { return .skipped }
        return .accepted(components.joined(separator: "/"))
    }
}
