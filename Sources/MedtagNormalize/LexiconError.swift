/// Errors from building, reading or importing a lexicon. Each names the file and the reason.
public enum LexiconError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be opened, read, mapped or written.
    case io(path: String, reason: String)
    /// A lexicon file or manifest is malformed: wrong magic, version, sizes or checksum.
    case corrupt(path: String, reason: String)
    /// An input (corpus file, gazetteer, abbreviation table, RF2 file) is malformed.
    case invalidInput(path: String, line: Int, reason: String)
    /// An RF2 release directory lacks a required file.
    case missingFile(directory: String, pattern: String)
    /// An RF2 release lacks what an option asks for (a language reference set, say).
    case invalidRelease(directory: String, reason: String)

    /// A message for users: what went wrong, in which file.
    public var description: String {
        switch self {
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .corrupt(let path, let reason):
            return "\(path): corrupt lexicon: \(reason)"
        case .invalidInput(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .missingFile(let directory, let pattern):
            return "\(directory): no file matching \(pattern) (an RF2 snapshot release is expected)"
        case .invalidRelease(let directory, let reason):
            return "\(directory): \(reason)"
        }
    }
}
