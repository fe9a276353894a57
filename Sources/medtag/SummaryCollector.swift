import Foundation
import MedtagFormats
import MedtagPipeline
import MedtagSpool
import MedtagStorage

/// Collects, document by document, what `annotate` found, for the summary page of its output folder.
struct SummaryCollector {
    private(set) var summary: RunSummary
    private let router: LanguageRouter
    /// The entities of the document being annotated; counted only if it finishes.
    private var pending = EntityTally()

    /// `formats` are those written: the run's tables among them are linked from the page.
    init(title: String, router: LanguageRouter, formats: [OutputFormat]) {
        summary = RunSummary(title: title)
        summary.linkTables(for: formats)
        self.router = router
    }

    /// Counts the entities of one annotated piece of the current document.
    mutating func piece(_ routed: RoutedDocument) {
        pending.add(routed.document.entities)
    }

    /// The current document finished: `files` are its result files, relative to the page.
    mutating func finished(_ key: String, first routed: RoutedDocument, tokens: Int, entities: Int, files: [String]) {
        let lexicon = router.lexiconName(language: routed.language)
        summary.add(
            RunSummary.DocumentRow(
                path: key, tokens: tokens, entities: entities, language: routed.language, model: routed.model, files: files),
            entities: pending, lexicon: lexicon)
        for note in routed.notes { summary.note(note) }
        pending = EntityTally()
    }

    /// The current document (or a whole input) was not annotated.
    mutating func refused(_ path: String, reason: String) {
        pending = EntityTally()
        summary.refuse(path, reason: reason)
    }

    /// Writes `summary.html` atomically to `url`.
    mutating func write(to url: URL, seconds: Double) throws {
        summary.seconds = seconds
        summary.finished = ISO8601DateFormatter().string(from: Date())
        try AtomicFile.write(SummaryPage.render(summary, version: Medtag.version), to: url)
    }
}
