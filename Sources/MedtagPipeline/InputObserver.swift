import MedtagFormats

/// Hears what happens to a run's documents as ``InputWriter`` writes them, on the writing thread, in
/// input order: the progress line, the summary page, the daemon's report, timings and log records
/// are observers. Every event has a default that ignores it.
public protocol InputObserver: AnyObject {
    /// A document handed back by the run is about to be read and written.
    func started(_ document: RunDocument)
    /// A piece of `document` was annotated and is about to be written.
    func annotated(_ piece: RoutedDocument, of document: RunDocument)
    /// A document's results were written; `path` names it on the summary page and in reports.
    func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String)
    /// A document (an archive member, or an input as a whole) was not annotated, and why;
    /// `document` is the one that failed, when the run handed one back.
    func refused(_ path: String, reason: String, document: RunDocument?)
    /// An input was read to its end, or as far as it could be; `milliseconds` are the times
    /// ``InputRun`` spent reading it and annotating its long texts.
    func finished(_ reading: InputReading, milliseconds: [String: Double])
}

extension InputObserver {
    public func started(_ document: RunDocument) {}
    public func annotated(_ piece: RoutedDocument, of document: RunDocument) {}
    public func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {}
    public func refused(_ path: String, reason: String, document: RunDocument?) {}
    public func finished(_ reading: InputReading, milliseconds: [String: Double]) {}
}

/// The summary page's figures (``RunSummary``), gathered document by document.
public final class SummaryObserver: InputObserver {
    public private(set) var summary: RunSummary
    private let annotator: any DocumentAnnotator

    /// `annotator` names the lexicon that gave each document its codes.
    public init(title: String, annotator: any DocumentAnnotator) {
        summary = RunSummary(title: title)
        self.annotator = annotator
    }

    public func written<File>(_ written: WrittenDocument<File>, of document: RunDocument, path: String) {
        summary.add(
            written.summaryRow(path: path), entities: written.found, lexicon: annotator.lexiconName(language: written.first.language))
        for note in written.first.notes { summary.note(note) }
    }

    public func refused(_ path: String, reason: String, document: RunDocument?) { summary.refuse(path, reason: reason) }

    /// Finishes the page's figures: the run took `seconds` and ended at `finished`; its tables, those
    /// of `formats`, are linked.
    public func finish(seconds: Double, finished: String, formats: [OutputFormat]) -> RunSummary {
        summary.seconds = seconds
        summary.finished = finished
        summary.linkTables(for: formats)
        return summary
    }
}

extension DocumentAnnotator {
    /// The name of the lexicon folder that gives codes to documents of `language`; nil when none does.
    public func lexiconName(language: String) -> String? {
        if let router = self as? LanguageRouter { return router.pipelines[language]?.lexiconDirectory?.lastPathComponent }
        if let pipeline = self as? Pipeline { return pipeline.lexiconDirectory?.lastPathComponent }
        return nil
    }
}
