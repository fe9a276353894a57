#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MedtagFormats
import MedtagText
import SystemPackage

/// A folder of BRAT documents, as PharmaCoNER ships them: `NAME.txt` (the text) and `NAME.ann`
/// (its mentions and their codes) side by side. Only the folder's own files count, not those of
/// folders inside it; hidden files (`.NAME`) are left out. Every failure names the file at fault
/// (``TextFileError``).
public struct BRATFolder: Sendable {
    /// The folder.
    public let path: FilePath

    public init(_ path: FilePath) { self.path = path }

    public init(_ path: String) { self.path = FilePath(path) }

    /// The documents with a text (`NAME.txt`), by name, sorted.
    public func documentIDs() throws(TextFileError) -> [String] { try names(withExtension: "txt") }

    /// The documents with annotations (`NAME.ann`), by name, sorted.
    public func annotatedIDs() throws(TextFileError) -> [String] { try names(withExtension: "ann") }

    /// The names, without `.EXT`, of the folder's files that end in `.EXT` (`ext`), sorted.
    public func names(withExtension ext: String) throws(TextFileError) -> [String] {
        let suffix = "." + ext
        let entries: [String]
        do { entries = try Self.list(path) } catch { throw TextFileError(path: path.string, reason: error.description) }
        return entries.filter { !$0.hasPrefix(".") && $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) }.sorted()
    }

    /// The file `NAME.EXT` of document `id`.
    public func file(_ id: String, extension ext: String) -> FilePath { path.appending("\(id).\(ext)") }

    /// The text of document `id` (its `NAME.txt`), read as every document is (``DocumentText``).
    public func text(_ id: String) throws(TextFileError) -> String { try DocumentText.read(file(id, extension: "txt")) }

    /// The mentions of document `id` (its `NAME.ann`), with their codes.
    public func annotations(_ id: String) throws(TextFileError) -> [Entity] {
        try Self.annotations(at: file(id, extension: "ann"))
    }

    /// The mentions of document `id`, nil when it has no `NAME.ann`.
    public func annotationsIfPresent(_ id: String) throws(TextFileError) -> [Entity]? {
        let ann = file(id, extension: "ann")
        guard let contents = try Self.contentsIfPresent(ann) else { return nil }
        return try Self.parse(contents, at: ann)
    }

    /// The UTF-8 contents of document `id`'s `NAME.EXT` (an `.ann` or `.tsv` file; may be empty).
    public func contents(_ id: String, extension ext: String) throws(TextFileError) -> String {
        try Self.contents(file(id, extension: ext))
    }

    /// The mentions of one `.ann` file, wherever it lies.
    public static func annotations(at ann: FilePath) throws(TextFileError) -> [Entity] {
        try parse(try contents(ann), at: ann)
    }

    /// Every document with its text tokenized and its mentions (none where there is no `.ann`),
    /// each in its sentence, sorted by start (longest first). A mention that ends past the text is refused.
    public func documents(tokenizer: Tokenizer = Tokenizer()) throws(TextFileError) -> [Document] {
        var documents: [Document] = []
        for id in try documentIDs() {
            var document = Document(id: id, text: try text(id), language: tokenizer.rules.language)
            tokenizer.process(&document)
            if var entities = try annotationsIfPresent(id) {
                for k in entities.indices {
                    let e = entities[k]
                    guard e.end <= document.scalars.count else {
                        throw TextFileError(
                            path: file(id, extension: "ann").string,
                            reason: "\(e.id) ends at \(e.end), past the text (\(document.scalars.count))")
                    }
                    entities[k].sentence = document.sentenceIndex(containing: e.start)
                }
                document.entities = entities.sorted { ($0.start, $1.end) < ($1.start, $0.end) }
            }
            documents.append(document)
        }
        return documents
    }

    private static func parse(_ contents: String, at ann: FilePath) throws(TextFileError) -> [Entity] {
        do { return try BRAT.parse(contents) } catch { throw TextFileError(path: ann.string, reason: "\(error)") }
    }

    /// A file's contents as UTF-8 text, a leading byte order mark dropped.
    private static func contents(_ file: FilePath) throws(TextFileError) -> String {
        guard let contents = try contentsIfPresent(file) else {
            throw TextFileError(path: file.string, reason: Errno.noSuchFileOrDirectory.description)
        }
        return contents
    }

    private static func contentsIfPresent(_ file: FilePath) throws(TextFileError) -> String? {
        var bytes: [UInt8]
        do { bytes = try DocumentText.readBytes(file) } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw TextFileError(path: file.string, reason: error.description)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TextFileError(path: file.string, reason: "not valid UTF-8")
        }
        return text
    }

    /// The names in a folder, `.` and `..` aside.
    private static func list(_ path: FilePath) throws(Errno) -> [String] {
        let dir: OpaquePointer? = path.withPlatformString { opendir($0) }
        guard let dir else { throw Errno(rawValue: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Errno(rawValue: errno) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }
}
