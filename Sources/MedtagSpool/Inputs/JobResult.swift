import Logging
import MedtagFormats

/// How one input ended.
public enum JobOutcome: String, Sendable {
    /// Results published, input moved to `done/` (or deleted).
    case done
    /// Input moved to `failed/` with `<name>.error.json`.
    case failed
    /// A passing condition (disk full): the input stays claimed and is tried again later.
    case retry
}

/// The result of processing one input.
public struct JobResult: Sendable {
    /// The input, relative to the inbox.
    public var relativePath: String
    public var outcome: JobOutcome
    /// The line written to the daily log.
    public var record: RunRecord
    public var error: SpoolError?
    /// What the input held, as on its summary page; nil unless its results were published.
    public var summary: RunSummary? = nil

    /// Logs how the input ended, as the daemon and `medtag ingest` both do: `annotated` at
    /// `doneLevel`, a failure as an error (`<3>` in the journal), a retry as a warning.
    public func log(to logger: Logger, doneLevel: Logger.Level = .info) {
        var metadata: Logger.Metadata = [
            "medtag.file": "\(relativePath)", "medtag.outcome": "\(outcome.rawValue)",
            "medtag.documents": "\(record.documents)", "medtag.entities": "\(record.entities)",
            "medtag.ms": "\(record.ms["total"] ?? 0)",
        ]
        switch outcome {
        case .done:
            if record.refused > 0 { metadata["medtag.refused"] = "\(record.refused)" }
            logger.log(level: doneLevel, "annotated", metadata: metadata)
        case .failed:
            metadata["medtag.stage"] = "\(error?.stage.rawValue ?? "")"
            metadata["medtag.error"] = "\(error?.description ?? "")"
            logger.error("input failed; moved to failed/", metadata: metadata)
        case .retry:
            metadata["medtag.error"] = "\(error?.description ?? "")"
            logger.warning("input will be retried", metadata: metadata)
        }
    }
}
