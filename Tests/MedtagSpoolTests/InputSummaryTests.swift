import Foundation
import MedtagFormats
import MedtagPipeline
import SystemPackage
import Testing

@testable import MedtagSpool
import MedtagTestSupport

@Suite("summary pages of inputs")
struct InputSummaryTests {
    @Test("the tables of the formats written are linked from the page")
    func tablesOfTheInputAreLinked() {
        var summary = RunSummary(title: "noche.zip")
        summary.linkTables(for: [.brat, .csv, .tsv])
        #expect(summary.links.map(\.href) == [ResultTable.csvName, ResultTable.tsvName])
        var none = RunSummary(title: "noche.zip")
        none.linkTables(for: [.brat, .conll])
        #expect(none.links.isEmpty)
    }

    @Test("annotate writes summary.html with its results, a shard into the shard's folder")
    func annotateWritesASummary() throws {
        let root = try temporaryDirectory("input-summary")
        defer { removeTemporaryDirectory(root) }
        let inputs = root.appendingPathComponent("notas")
        try FileManager.default.createDirectory(at: inputs.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("Tratado con paracetamol y omeprazol.\n".utf8).write(to: inputs.appendingPathComponent("sub/uno.txt"))
        try Data("Se pautó enalapril.\n".utf8).write(to: inputs.appendingPathComponent("dos.txt"))
        try Data([0x41, 0xE1, 0x42]).write(to: inputs.appendingPathComponent("latin1.txt"))
        for shard in [nil, try Shard(parsing: "0/1")] {
            let out = root.appendingPathComponent("out-\(shard == nil ? 0 : 2)")
            let run = try AnnotateHarness.run([inputs], out: out, model: testModel, shard: shard)
            #expect(run.status == 1, "the Latin-1 file is refused: \(run.warningText)")
            let folder = shard == nil ? out : out.appendingPathComponent("shard-0-of-1")
            let page = try String(contentsOf: folder.appendingPathComponent("summary.html"), encoding: .utf8)
            #expect(page.contains("<td id=\"documents-read\">3</td>") && page.contains("<td id=\"documents-annotated\">2</td>"))
            #expect(page.contains("<td>latin1</td><td>") && page.contains("not valid UTF-8"), "the refusal and its reason")
            #expect(page.contains("href=\"./sub/uno.ann\""), "links to a document's files")
            #expect(page.contains(">omeprazol</td>") && page.contains(">enalapril</td>"))
        }
    }

    @Test("the run's page links each input's page relative to the log folder")
    func relativePaths() {
        #expect(Ingest.relative(from: "/s/outbox/logs", to: "/s/outbox/a.zip") == "../a.zip")
        #expect(Ingest.relative(from: "/var/log/medtag", to: "/s/outbox/a.zip") == "../../../s/outbox/a.zip")
        #expect(Ingest.relative(from: "/s/outbox", to: "/s/outbox/a.zip") == "a.zip")
    }
}
