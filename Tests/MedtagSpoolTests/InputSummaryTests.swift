import Foundation
import MedtagFormats
import SystemPackage
import Testing

@testable import MedtagSpool

@Suite("summary pages of inputs")
struct InputSummaryTests {
    @Test("tables that cover the whole input are linked; a document's own files are not")
    func tablesOfTheInputAreLinked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-summary-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("notas"), withIntermediateDirectories: true)
        for name in ["nota.ann", "nota.csv", "nota.tsv", "todo.csv", "codigos.tsv", "notas/otra.csv", "medtag-report.json"] {
            try Data("x".utf8).write(to: folder.appendingPathComponent(name))
        }
        var report = InputReport(input: "noche.zip", medtag: "0", formats: ["brat", "csv"])
        for path in ["nota.txt", "notas/otra.txt"] {
            report.documents.append(.init(path: path, characters: 1, sentences: 1, tokens: 1, entities: 0))
        }
        var summary = RunSummary(title: "noche.zip")
        summary.linkTables(in: FilePath(folder.path), report: report)
        #expect(summary.links.map(\.href) == ["codigos.tsv", "todo.csv"])
    }

    @Test("a document's files are linked from the folder of its path inside the input")
    func documentFilesSitInTheirFolder() {
        var summary = RunSummary(title: "noche.zip")
        var document = InputReport.DocumentSummary(path: "a/b/nota.xml", characters: 10, sentences: 1, tokens: 3, entities: 0)
        document.notes = ["no lexicon"]
        summary.add(document, files: ["nota.ann", "nota.txt"], entities: EntityTally(), lexicon: nil)
        #expect(summary.documents.first?.files == ["a/b/nota.ann", "a/b/nota.txt"])
        #expect(summary.notes == ["no lexicon"] && summary.lexicons == ["none": 1])
    }

    @Test("the run's page links each input's page relative to the log folder")
    func relativePaths() {
        #expect(Ingest.relative(from: "/s/outbox/logs", to: "/s/outbox/a.zip") == "../a.zip")
        #expect(Ingest.relative(from: "/var/log/medtag", to: "/s/outbox/a.zip") == "../../../s/outbox/a.zip")
        #expect(Ingest.relative(from: "/s/outbox", to: "/s/outbox/a.zip") == "a.zip")
    }
}
