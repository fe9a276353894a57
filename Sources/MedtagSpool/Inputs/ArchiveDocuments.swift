import SystemPackage

/// The documents of an archive for one-shot batch commands (`medtag annotate`), read as a stream
/// with the same limits and member checks as the daemon.
public enum ArchiveDocuments {
    /// Whether medtag reads a file of this name as an archive.
    public static func isArchive(_ fileName: String) -> Bool {
        InputKind(fileName: fileName) == .archive
    }

    /// Calls `body` with each `.txt`/`.xml` member (its safe relative path, bytes, and whether it is
    /// XML), in archive order. Members that are unsafe (absolute paths, `..`, links, devices), too
    /// large, of another kind, or archives themselves go to `refused` with the reason.
    public static func forEach(
        archive path: String, limits: ArchiveLimits = ArchiveLimits(),
        refused: (_ member: String, _ reason: String) -> Void,
        _ body: (_ memberPath: String, _ bytes: [UInt8], _ isXML: Bool) throws -> Void
    ) throws {
        let reader: ArchiveReader
        do { reader = try ArchiveReader(path: FilePath(path), limits: limits) } catch {
            throw ArchiveDocumentError(description: "\(path): \(error.reason)")
        }
        while true {
            let member: ArchiveMember?
            do { member = try reader.nextMember() } catch { throw ArchiveDocumentError(description: "\(path): \(error.reason)") }
            guard let member else { return }
            if member.kind == .directory { continue }
            let safe: String
            switch MemberPath.check(member.rawPath) {
            case .skipped: continue
            case .refused(let reason):
                refused(member.rawPath, reason)
                continue
            case .accepted(let accepted): safe = accepted
            }
            guard member.kind == .file else {
                refused(member.rawPath, "link, device or other special file")
                continue
            }
            let name = FilePath(safe).lastComponent?.string ?? safe
            guard let kind = InputKind(fileName: name), kind != .archive else {
                refused(member.rawPath, "not a .txt or .xml document (archives inside archives: use medtag ingest)")
                continue
            }
            let bytes: [UInt8]?
            do { bytes = try reader.readMember() } catch { throw ArchiveDocumentError(description: "\(path): \(error.reason)") }
            guard let bytes else {
                refused(member.rawPath, "larger than \(limits.maxMemberBytes) bytes")
                continue
            }
            try body(safe, bytes, kind == .xml)
        }
    }
}

/// An archive that cannot be read as a whole.
public struct ArchiveDocumentError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
