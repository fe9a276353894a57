import SystemPackage

/// Why a text file could not be read: the file and the reason, shown as `PATH: reason`.
public struct TextFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file at fault, as it was named.
    public var path: String
    /// The reason, in words a user can act on (`No such file or directory`, `not valid UTF-8 …`).
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The text of a document: the one decoding of a document's bytes, for inputs read by the daemon,
/// `medtag ingest` and `medtag annotate`, and for the texts the other commands read (corpora,
/// `medtag tokenize`, `medtag convert`).
public enum DocumentText {
    /// The text of a document's bytes: XML (``InputKind/xml``) through the XML extractor, anything
    /// else as UTF-8 with the checks of ``TextInput``.
    public static func decode(_ bytes: [UInt8], kind: InputKind = .text) throws(InputError) -> String {
        kind == .xml ? try XMLText.extract(bytes) : try TextInput.decode(bytes)
    }

    /// Reads a file as text: `.xml` through the XML extractor, everything else as UTF-8.
    /// Symbolic links are followed (the file was named by the user).
    public static func read(_ path: FilePath) throws(TextFileError) -> String {
        let bytes: [UInt8]
        do { bytes = try readBytes(path) } catch { throw TextFileError(path: path.string, reason: error.description) }
        let kind: InputKind = InputKind(fileName: path.lastComponent?.string ?? "") == .xml ? .xml : .text
        do { return try decode(bytes, kind: kind) } catch { throw TextFileError(path: path.string, reason: error.reason) }
    }

    /// Every byte of a file.
    static func readBytes(_ path: FilePath) throws(Errno) -> [UInt8] {
        let descriptor: FileDescriptor
        do { descriptor = try FileDescriptor.open(path, .readOnly, options: .closeOnExec, retryOnInterrupt: true) } catch {
            throw error as? Errno ?? .ioError
        }
        defer { try? descriptor.close() }
        var bytes: [UInt8] = []
        while try InputFile.readAppending(descriptor, to: &bytes, count: 1 << 16) > 0 {}
        return bytes
    }
}
