import Foundation
import Logging
import MedtagFormats
import MedtagPipeline
import MedtagSpool
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One live line on standard error while a long command works: documents done (of the total when
/// known), tokens per second, time elapsed and an estimate of the time left.
///
/// It is drawn only when standard error is a terminal (never into logs, pipes or CI) and not
/// turned off with `--quiet`; it is redrawn at most a few times a second, cleared before any
/// warning or log line is written, and cleared for good by ``finish()``.
final class ProgressLine: Sendable {
    private struct State {
        var documents = 0
        var tokens = 0
        /// Share of the work done, when the document total is not known (inputs or bytes done).
        var fraction: Double?
        var lastDraw: Duration?
        /// Characters of the line on screen (0: nothing drawn).
        var shown = 0
        var finished = false
    }

    /// Documents to do, when known.
    let total: Int?
    /// Whether the line is drawn at all.
    let enabled: Bool
    private let interval: Duration
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let state = Mutex(State())

    /// The line being drawn now, cleared by ``warn(_:)`` and log lines before they are written.
    private static let active = Mutex<ProgressLine?>(nil)

    /// - Parameters:
    ///   - total: documents to do, when known.
    ///   - quiet: `--quiet`: never draw.
    ///   - interval: the shortest time between two redraws.
    init(total: Int?, quiet: Bool, interval: Duration = .milliseconds(250)) {
        self.total = total
        self.enabled = !quiet && isatty(STDERR_FILENO) == 1
        self.interval = interval
        self.start = clock.now
        if enabled { Self.active.withLock { $0 = self } }
    }

    /// Counts finished documents and annotated tokens, and redraws if it is time.
    func advance(documents: Int = 0, tokens: Int = 0) {
        update { state in
            state.documents += documents
            state.tokens += tokens
        }
    }

    /// Sets the share of the work done (0…1), for the estimate when the document total is unknown.
    func setFraction(_ fraction: Double) {
        update { $0.fraction = min(max(fraction, 0), 1) }
    }

    /// Clears the line for good; the command's final line follows on a clean terminal.
    func finish() {
        guard enabled else { return }
        state.withLock { state in
            clear(&state)
            state.finished = true
        }
        Self.active.withLock { if $0 === self { $0 = nil } }
    }

    /// Prints a result line on standard output, flushed at once (so it is not lost if the process is
    /// killed), with the progress line cleared first; the progress line comes back with the next update.
    func print(_ text: String) {
        Self.clearActive()
        Swift.print(text)
        fflush(nil)
    }

    /// Clears the line on screen now (it comes back with the next update), so that a warning or
    /// log line starts at the beginning of a clean line.
    static func clearActive() {
        guard let line = active.withLock({ $0 }) else { return }
        line.state.withLock { line.clear(&$0) }
    }

    private func update(_ change: (inout State) -> Void) {
        guard enabled else { return }
        state.withLock { state in
            change(&state)
            guard !state.finished else { return }
            let elapsed = clock.now - start
            if let last = state.lastDraw, elapsed - last < interval { return }
            state.lastDraw = elapsed
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let text = String(
                Self.line(documents: state.documents, total: total, tokens: state.tokens, seconds: seconds, fraction: state.fraction)
                    .prefix(Self.width - 1))
            let padding = String(repeating: " ", count: max(0, state.shown - text.count))
            write("\r" + text + padding)
            state.shown = text.count
        }
    }

    private func clear(_ state: inout State) {
        guard state.shown > 0 else { return }
        write("\r" + String(repeating: " ", count: state.shown) + "\r")
        state.shown = 0
        state.lastDraw = nil
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// The terminal's width from `COLUMNS`, else 80.
    private static let width: Int = {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 20 { return columns }
        return 80
    }()

    /// The text of the line: `medtag: 120 of 400 documents · 2,310 tokens/s · 0:42 elapsed · about 1:38 left`.
    static func line(documents: Int, total: Int?, tokens: Int, seconds: Double, fraction: Double?) -> String {
        var parts = [total.map { "\(SummaryPage.number(documents)) of \(SummaryPage.number($0)) documents" } ?? "\(SummaryPage.number(documents)) document\(documents == 1 ? "" : "s")"]
        if seconds > 0 { parts.append("\(SummaryPage.number(Int((Double(tokens) / seconds).rounded()))) tokens/s") }
        parts.append("\(clockTime(seconds)) elapsed")
        let done = total.map { $0 > 0 ? Double(documents) / Double($0) : 1 } ?? fraction
        if let done, done > 0, seconds >= 1 {
            parts.append(done >= 1 ? "finishing" : "about \(clockTime(seconds * (1 - done) / done)) left")
        }
        return "medtag: " + parts.joined(separator: " · ")
    }

    /// `0:07`, `12:30`, `1:02:03`.
    static func clockTime(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let (h, m, s) = (whole / 3600, whole % 3600 / 60, whole % 60)
        let twoDigits = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
        return h > 0 ? "\(h):\(twoDigits(m)):\(twoDigits(s))" : "\(m):\(twoDigits(s))"
    }
}

/// The line as told by `annotate`'s run: a document written or failed counts one; tokens count as
/// a long text's pieces are annotated, or with its document.
extension ProgressLine: InputObserver {
    func annotated(_ piece: RoutedDocument, of document: RunDocument) {
        if document.isStreamed { advance(tokens: piece.document.tokens.count) }
    }

    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        advance(documents: 1, tokens: document.isStreamed ? 0 : written.counts.tokens)
    }

    func refused(_ path: String, reason: String, document: RunDocument?) {
        if document != nil { advance(documents: 1) }
    }
}

extension ProgressLine {
    /// The line as told by the spool's jobs (`ingest`).
    var jobProgress: JobProgress {
        JobProgress(annotated: { self.advance(documents: $0, tokens: $1) }, inputsDone: { self.setFraction($0) })
    }

    /// A log handler that clears the progress line before each log line it passes on.
    struct ClearingLogHandler: LogHandler {
        var inner: any LogHandler

        func log(event: LogEvent) {
            ProgressLine.clearActive()
            inner.log(event: event)
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { inner[metadataKey: key] }
            set { inner[metadataKey: key] = newValue }
        }

        var metadata: Logger.Metadata {
            get { inner.metadata }
            set { inner.metadata = newValue }
        }

        var logLevel: Logger.Level {
            get { inner.logLevel }
            set { inner.logLevel = newValue }
        }
    }
}
