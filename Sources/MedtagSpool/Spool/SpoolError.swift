import SystemPackage

/// Why a spool operation failed: which file, at which stage, and the reason in words.
///
/// `description` always names the file, so a line in the journal or in `<name>.error.json` is enough
/// to act on.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    /// Where in the life of an input the failure happened.
    public enum Stage: String, Sendable, Codable {
        case configuration, spool, model, claim, read, decode, archive, annotate, render, publish
    }

    /// What should happen to the input.
    public enum Disposition: String, Sendable, Codable {
        /// Bad input (encoding, type, size, unreadable archive): it goes to `failed/`.
        case rejected
        /// A passing condition (disk full, too many open files): the input stays and is retried.
        case retryable
    }

    public var stage: Stage
    /// The file the failure concerns.
    public var path: String
    /// The reason, in words a user can act on.
    public var reason: String
    /// The system error behind it, if any.
    public var errno: Errno?
    public var disposition: Disposition

    public init(stage: Stage, path: String, reason: String, errno: Errno? = nil, disposition: Disposition? = nil) {
        self.stage = stage
        self.path = path
        self.reason = reason
        self.errno = errno
        self.disposition = disposition ?? Self.disposition(for: errno)
    }

    public var description: String {
        var text = "\(path): \(reason)"
        if let errno { text += " (\(errno))" }
        return text
    }

    /// Conditions that go away by themselves are retried; everything else is the input's fault.
    static func disposition(for errno: Errno?) -> Disposition {
        switch errno {
        case .noSpace?, .tooManyOpenFiles?, .tooManyOpenFilesInSystem?, .noMemory?, .resourceTemporarilyUnavailable?,
            .diskQuotaExceeded?, .ioError?:
            return .retryable
        default:
            return .rejected
        }
    }
}
