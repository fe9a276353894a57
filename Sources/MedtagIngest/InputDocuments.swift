#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MedtagText
import SystemPackage

/// Limits on what is read from one input; the `medtag.conf` key of each is named in the refusals.
public struct InputLimits: Sendable, Equatable {
    /// Largest input of any kind, in bytes (`max_input_size`). Plain text is read and annotated
    /// piece by piece, so its size does not change the memory it needs.
    public var maxInputBytes: Int = 4 << 30
    /// Largest `.xml` input, in bytes (`max_xml_size`): XML is read whole to extract its text.
    public var maxXMLBytes: Int = 64 << 20
    /// Text is annotated in pieces of at most this many bytes, cut at line ends (`piece_size`).
    public var pieceBytes: Int = 2 << 20
    /// Limits of archives, member by member and in total.
    public var archive = ArchiveLimits()

    public init() {}
}

/// Why an input, or a document of it, could not be read. The reason names the limit passed or
/// the fault found; the caller adds the file's name.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    /// What was being done.
    public enum Stage: String, Sendable {
        /// Opening or reading the file.
        case read
        /// Turning its bytes into text (encoding, XML).
        case decode
        /// Reading the archive as a whole (damaged, past its limits).
        case archive
    }

    public var stage: Stage
    /// The reason, in words a user can act on.
    public var reason: String
    /// The system error behind it, if any.
    public var errno: Errno?

    public init(stage: Stage, reason: String, errno: Errno? = nil) {
        self.stage = stage
        self.reason = reason
        self.errno = errno
    }

    public var description: String { errno.map { "\(reason) (\($0))" } ?? reason }
}

/// One thing found in an input: a document to annotate, or an archive member that is not one.
public enum InputEntry: Sendable {
    case document(InputDocument)
    /// A member refused with the reason; `path` is as shown in reports (`lote.zip` members:
    /// `notas/a.txt`; members of an archive inside it: `interno.tar/b.txt`).
    case refused(path: String, reason: String)
}

/// A document of an input, ready to be read as text on any thread.
public struct InputDocument: Sendable {
    enum Content: Sendable {
        /// An archive member or an XML file, read whole.
        case bytes([UInt8])
        /// A plain-text file, read piece by piece.
        case file(FilePath)
    }

    /// The document's path inside the input: the file's name for a file, the member's path for an
    /// archive member (`interno.tar/notas/a.txt` for a member of an archive inside the archive).
    public let path: String
    /// The path as shown in reports: for a member, its name as stored in the archive.
    public let shownPath: String
    /// ``InputKind/text`` or ``InputKind/xml``.
    public let kind: InputKind
    /// Archives around it inside the input: 0 for a file or a member of the input itself.
    public let depth: Int
    /// Size in bytes, as stored.
    public let size: Int
    /// Bytes of the input (the outer archive) read when the document was found.
    public let inputBytesRead: Int
    let content: Content

    /// The document's stable key: ``path`` without its extension. It names the results.
    public var key: String { InputKind.documentKey(path) }

    /// Whether the text is read from its file piece by piece as ``pieces(limits:)`` gives it
    /// (plain-text files), rather than held in memory already.
    public var isStreamed: Bool {
        if case .file = content { return true }
        return false
    }

    /// The document's text in pieces of at most `limits.pieceBytes`. Text held in memory is
    /// decoded here; a file is opened here and decoded piece by piece.
    public func pieces(limits: InputLimits) throws(IngestError) -> DocumentPieces {
        switch content {
        case .file(let path):
            do {
                return DocumentPieces(reader: try PieceReader(path: path, pieceBytes: limits.pieceBytes, limit: limits.maxInputBytes))
            } catch {
                throw IngestError(stage: .read, reason: "cannot read the input", errno: error)
            }
        case .bytes(let bytes):
            let text: String
            do {
                text = try DocumentText.decode(bytes, kind: kind)
            } catch {
                throw IngestError(stage: .decode, reason: error.description)
            }
            let pieces = TextChunker(maximumBytes: limits.pieceBytes).pieces(of: text).map(String.init)
            return DocumentPieces(pieces: pieces, size: bytes.count)
        }
    }
}

/// The text of one document, a piece at a time (see ``InputDocument/pieces(limits:)``).
public final class DocumentPieces {
    private var reader: PieceReader?
    private var held: ArraySlice<String>
    /// The document's size in bytes.
    public let size: Int
    private var given = 0

    init(reader: PieceReader) {
        self.reader = reader
        held = []
        size = reader.size
    }

    init(pieces: [String], size: Int) {
        held = pieces[...]
        self.size = size
    }

    /// Bytes of the document given out as pieces so far (of the file, for a file read in pieces).
    public var bytesDecoded: Int { reader?.bytesDecoded ?? given }

    /// The next piece; nil after the last.
    public func next() throws(IngestError) -> String? {
        guard let reader else {
            let piece = held.popFirst()
            given = held.isEmpty ? size : given + (piece?.utf8.count ?? 0)
            return piece
        }
        do {
            return try reader.next()
        } catch {
            switch error {
            case .read(let errno): throw IngestError(stage: .read, reason: "cannot read the input", errno: errno)
            case .tooLarge:
                throw IngestError(stage: .read, reason: "grew past \(reader.limit) bytes while read (max_input_size)")
            case .decode(let error): throw IngestError(stage: .decode, reason: error.description)
            }
        }
    }

    /// Every remaining piece, joined.
    public func text() throws(IngestError) -> String {
        var text = ""
        while let piece = try next() { text += piece }
        return text
    }
}

/// The names results are written under, each taken by the first document that claims it: two
/// documents must not write the same files (`nota.txt` and `nota.xml`, or two folders' `nota.txt`).
public struct ResultKeys: Sendable {
    private var owners: [String: String] = [:]

    public init() {}

    /// Gives `key` to `source`, unless another source has it: then returns that one.
    public mutating func claim(_ key: String, by source: String) -> String? {
        if let first = owners[key] { return first }
        owners[key] = source
        return nil
    }

    /// Why a document whose key `first` already has is refused.
    public static func overwriteReason(_ first: String) -> String { "its results would overwrite those of `\(first)`" }
}

/// The documents of one input file, in order: a `.txt` or `.xml` file is one document; an archive
/// gives its `.txt` and `.xml` members, and those of archives inside it up to
/// ``ArchiveLimits/maxDepth``, one at a time.
///
/// This is the one reading of inputs, shared by the daemon, `medtag ingest` and `medtag annotate`:
/// the same limits, the same refusals with the same reasons. A member is refused when its name is
/// unsafe (absolute, `..`, hidden, control characters), when it is a link, device or other special
/// file, of a type medtag does not read, larger than its limit, an archive nested too deep or not
/// readable, or when its results would have the name of an earlier member's (the first keeps it).
/// Only one member's bytes are held at a time.
public final class InputDocuments {
    /// What the input is.
    public let kind: InputKind
    /// The input's size in bytes.
    public let size: Int
    /// Archive members seen so far, at every depth (folders aside).
    public private(set) var membersRead = 0

    private let path: FilePath
    private let name: String
    private let limits: InputLimits
    private var single: Bool
    /// Open archives, the input's first; each with the prefix of its members' paths and its own
    /// path as shown.
    private var archives: [(reader: ArchiveReader, prefix: String, shownPath: String)] = []
    private var keys = ResultKeys()

    /// Opens an input file (symbolic links are not followed). Throws when it is not a regular
    /// file, not of a type medtag reads, too large, or an archive that cannot be opened.
    public init(path: FilePath, limits: InputLimits) throws(IngestError) {
        self.path = path
        self.limits = limits
        name = path.lastComponent?.string ?? path.string
        var st = stat()
        let status = path.withPlatformString { lstat($0, &st) }
        guard status == 0 else { throw IngestError(stage: .read, reason: "cannot read the input", errno: Errno(rawValue: errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw IngestError(stage: .read, reason: Self.notAFile(st)) }
        guard let kind = InputKind(fileName: name) else {
            throw IngestError(stage: .read, reason: "unsupported input type (medtag reads \(InputKind.supportedDescription))")
        }
        self.kind = kind
        size = Int(st.st_size)
        single = kind != .archive
        switch kind {
        case .text:
            if size > limits.maxInputBytes { throw Self.tooLarge("max_input_size", limits.maxInputBytes) }
        case .xml:
            break
        case .archive:
            do { archives = [(try ArchiveReader(path: path, limits: limits.archive), "", name)] } catch {
                throw IngestError(stage: .archive, reason: error.reason)
            }
        }
    }

    /// Why an input that is not a regular file is refused.
    public static func notAFile(_ st: stat) -> String {
        (st.st_mode & S_IFMT) == S_IFDIR
            ? "a folder, not a file (`medtag ingest --from DIR` reads the files directly in DIR, not in its sub-folders)"
            : "not a regular file (symlinks and devices are not read)"
    }

    private static func tooLarge(_ key: String, _ limit: Int) -> IngestError {
        IngestError(stage: .read, reason: "larger than \(limit) bytes (\(key))")
    }

    /// Bytes of the input read so far (compressed, for an archive).
    public var bytesRead: Int { archives.first?.reader.bytesRead ?? 0 }

    /// The next document or refused member; nil at the end. Throws when the input as a whole
    /// cannot be read (a damaged archive, one past its limits, an XML file past `max_xml_size`):
    /// archives inside it are refused as members instead.
    public func next() throws(IngestError) -> InputEntry? {
        if single {
            single = false
            return .document(try readSingle())
        }
        while let archive = archives.last {
            let member: ArchiveMember?
            do { member = try archive.reader.nextMember() } catch {
                if let refused = try giveUp(error) { return refused }
                continue
            }
            guard let member else {
                archives.removeLast()
                continue
            }
            if member.kind == .directory { continue }
            membersRead += 1
            if let reason = member.unreadableName {
                // Refused rather than skipped: a member never vanishes without a word.
                return .refused(path: "\(archive.prefix)member \(archive.reader.memberCount)", reason: "its name cannot be read: \(reason)")
            }
            let shownPath = archive.prefix + member.rawPath
            let safe: String
            switch MemberPath.check(member.rawPath) {
            case .skipped: continue
            case .refused(let reason): return .refused(path: shownPath, reason: reason)
            case .accepted(let accepted): safe = accepted
            }
            switch member.kind {
            case .symlink: return .refused(path: shownPath, reason: "symbolic link")
            case .hardlink: return .refused(path: shownPath, reason: "hard link")
            case .special: return .refused(path: shownPath, reason: "device, FIFO or other special file")
            case .directory, .file: break
            }
            let memberName = FilePath(safe).lastComponent?.string ?? safe
            guard let kind = InputKind(fileName: memberName) else {
                return .refused(path: shownPath, reason: "unsupported member type (medtag reads \(InputKind.supportedDescription))")
            }
            let depth = archives.count - 1
            if kind == .archive, depth >= limits.archive.maxDepth {
                return .refused(
                    path: shownPath, reason: "archive nested deeper than \(limits.archive.maxDepth) (archive_max_depth)")
            }
            let content: [UInt8]?
            do { content = try archive.reader.readMember() } catch {
                if let refused = try giveUp(error) { return refused }
                continue
            }
            guard let content else {
                return .refused(
                    path: shownPath, reason: "larger than \(limits.archive.maxMemberBytes) bytes (archive_max_member_size)")
            }
            let fullPath = archive.prefix + safe
            if kind == .archive {
                do {
                    archives.append((try ArchiveReader(bytes: content, name: fullPath, limits: limits.archive), fullPath + "/", shownPath))
                } catch {
                    return .refused(path: shownPath, reason: error.reason)
                }
                continue
            }
            if let first = keys.claim(InputKind.documentKey(fullPath), by: shownPath) {
                return .refused(path: shownPath, reason: ResultKeys.overwriteReason(first))
            }
            return .document(
                InputDocument(
                    path: fullPath, shownPath: shownPath, kind: kind, depth: depth, size: content.count,
                    inputBytesRead: bytesRead, content: .bytes(content)))
        }
        return nil
    }

    /// The archive being read failed as a whole: the input's own archive throws; one inside it is
    /// closed and refused, and the one around it goes on.
    private func giveUp(_ failure: ArchiveFailure) throws(IngestError) -> InputEntry? {
        guard archives.count > 1, let inner = archives.popLast() else {
            throw IngestError(stage: .archive, reason: failure.reason)
        }
        return .refused(path: inner.shownPath, reason: failure.reason)
    }

    /// The one document of a `.txt` or `.xml` file.
    private func readSingle() throws(IngestError) -> InputDocument {
        guard kind == .xml else {
            return InputDocument(path: name, shownPath: name, kind: kind, depth: 0, size: size, inputBytesRead: 0, content: .file(path))
        }
        let limit = min(limits.maxInputBytes, limits.maxXMLBytes)
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, limit: limit)
        } catch .fileTooLarge {
            throw Self.tooLarge(limit == limits.maxXMLBytes ? "max_xml_size" : "max_input_size", limit)
        } catch {
            throw IngestError(stage: .read, reason: "cannot read the input", errno: error)
        }
        return InputDocument(
            path: name, shownPath: name, kind: kind, depth: 0, size: bytes.count, inputBytesRead: bytes.count, content: .bytes(bytes))
    }
}
