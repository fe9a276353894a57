#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// medtag's log lines on standard error: the message first, then `key=value` metadata sorted by
/// key, values with spaces, quotes or control characters quoted (`medtag.file="informe de alta.txt"`).
///
/// Under systemd (`JOURNAL_STREAM` set, so standard error goes to the journal) each line starts
/// with its syslog priority, `<3>` for an error … `<7>` for debug, which journald reads as the
/// line's priority, and carries no timestamp (the journal adds one). Otherwise it starts with the
/// time and the level.
public struct LogLine: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    /// Lines for the journal: priority prefix, no timestamp.
    public let journal: Bool
    private let write: @Sendable (String) -> Void

    /// A handler writing to standard error, in the journal's form when `environment` has `JOURNAL_STREAM`.
    public static func standardError(environment: [String: String]) -> LogLine {
        LogLine(journal: environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false) { line in
            errorLock.withLock { _ in
                let bytes = Array(line.utf8)
                var written = 0
                while written < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + written, bytes.count - written) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    written += n
                }
            }
        }
    }

    private static let errorLock = Mutex<Void>(())

    /// A handler that hands each finished line (with its line feed) to `write`.
    public init(journal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.journal = journal
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(Self.format(event: event, handlerMetadata: metadata, journal: journal, time: Timestamp.iso8601()))
    }

    /// One line: `<6>message a=1 b="x y"` for the journal, `TIME info message a=1 b="x y"` otherwise.
    static func format(event: LogEvent, handlerMetadata: Logger.Metadata, journal: Bool, time: String) -> String {
        var all = handlerMetadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        var line = journal ? "<\(priority(event.level))>" : "\(time) \(event.level) "
        line += event.message.description.replacingNewlines
        for key in all.keys.sorted() {
            line += " \(key)=\(quoted(all[key].map { "\($0)" } ?? ""))"
        }
        return line + "\n"
    }

    /// The syslog priority journald reads from a `<N>` prefix.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A value as is when it has no space, quote, `=` or control character and is not empty; else
    /// in double quotes, with `"`, `\` and control characters escaped (`\n`, `\t`, `\u{7F}`).
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            !scalar.properties.isWhitespace && scalar != "\"" && scalar != "\\" && scalar != "=" && scalar.value >= 0x20
                && scalar.value != 0x7F
        }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    /// The text on one line: line breaks shown as `\n`.
    fileprivate var replacingNewlines: String {
        guard contains(where: \.isNewline) else { return self }
        return unicodeScalars.map { $0 == "\n" ? "\\n" : $0 == "\r" ? "\\r" : String($0) }.joined()
    }
}
