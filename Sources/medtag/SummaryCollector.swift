import Foundation
import MedtagFormats
import MedtagPipeline
import MedtagSpool
import MedtagStorage

/// Collects, document by document, what `annotate` found, for the summary page of its output folder.
struct SummaryCollector {
    private(set) var summary: RunSummary
    private let router: LanguageRouter

    /// `formats` are those written: the run's tables among them are linked from the page.
    init(title: String, router: LanguageRouter, formats: [OutputFormat]) {
        summary = RunSummary(title: title)
        summary.linkTables(for: formats)
        self.router = router
    }

    /// A document finished: `written` says what it held and names its files, relative to the page.
    mutating func finished<File>(_ key: String, _ written: WrittenDocument<File>) {
        summary.add(written.summaryRow(path: key), entities: written.found, lexicon: router.lexiconName(language: written.first.language))
        for note in written.first.notes { summary.note(note) }
    }

    /// The current document (or a whole input) was not annotated.
    mutating func refused(_ path: String, reason: String) {
        summary.refuse(path, reason: reason)
    }

    /// Writes `summary.html` atomically to `url`.
    mutating func write(to url: URL, seconds: Double) throws {
        summary.seconds = seconds
        summary.finished = ISO8601DateFormatter().string(from: Date())
        try AtomicFile.write(SummaryPage.render(summary, version: Medtag.version), to: url)
    }
}
