import SystemPackage

/// What an input or archive member is, judged by its name.
public enum InputKind: Sendable, Equatable {
    /// Plain text, UTF-8 (`.txt`).
    case text
    /// XML (`.xml`).
    case xml
    /// A tar or zip archive, compressed or not.
    case archive

    private static let archiveSuffixes = [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".zip",
    ]

    /// nil when medtag does not read files of this kind.
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".txt") {
            self = .text
        } else if lower.hasSuffix(".xml") {
            self = .xml
        } else if Self.archiveSuffixes.contains(where: { lower.hasSuffix($0) }) {
            self = .archive
        } else {
            return nil
        }
    }

    /// The kinds medtag reads, for messages.
    public static let supportedDescription = ".txt, .xml, .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip"

    /// The file name without its input extension: `note.txt` → `note`, `a.tar.gz` → `a`.
    public static func baseName(_ fileName: String) -> String {
        let lower = fileName.lowercased()
        for suffix in [".txt", ".xml"] + archiveSuffixes where lower.hasSuffix(suffix) && lower.count > suffix.count {
            return String(fileName.dropLast(suffix.count))
        }
        return fileName
    }
}

extension InputKind {
    /// A document's key: its path inside the input without the extension (`notas/n1.txt` →
    /// `notas/n1`). It names the document in the results and the files written for it.
    public static func documentKey(_ documentPath: String) -> String {
        let fileName = FilePath(documentPath).lastComponent?.string ?? documentPath
        return FilePath(documentPath).removingLastComponent().appending(baseName(fileName)).string
    }
}
