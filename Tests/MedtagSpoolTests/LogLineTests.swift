import Foundation
import Logging
import Testing

@testable import MedtagSpool
import MedtagTestSupport

/// Log lines as journald and a person read them.
@Suite("log lines")
struct LogLineTests {
    func line(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata, journal: Bool) -> String {
        let event = LogEvent(level: level, message: "\(message)", metadata: metadata, source: "medtag", file: "", function: "", line: 0)
        return LogLine.format(event: event, handlerMetadata: [:], journal: journal, time: "2026-01-01T00:00:00.000Z")
    }

    @Test("journal lines: syslog priority first, no timestamp, message then sorted metadata, values with spaces quoted")
    func journalFormat() {
        let levels: [(Logger.Level, String)] = [
            (.trace, "<7>"), (.debug, "<7>"), (.info, "<6>"), (.notice, "<5>"), (.warning, "<4>"), (.error, "<3>"), (.critical, "<2>"),
        ]
        for (level, prefix) in levels {
            #expect(line(level, "annotated", [:], journal: true) == "\(prefix)annotated\n")
        }
        #expect(
            line(.info, "annotated", ["medtag.outcome": "done", "medtag.file": "informe de alta.txt"], journal: true)
                == "<6>annotated medtag.file=\"informe de alta.txt\" medtag.outcome=done\n")
        #expect(line(.error, "two\nlines", ["medtag.error": "say \"no\"\n"], journal: true) == "<3>two\\nlines medtag.error=\"say \\\"no\\\"\\n\"\n")
        #expect(line(.info, "x", ["k": ""], journal: true) == "<6>x k=\"\"\n")
        #expect(line(.info, "x", ["k": "a=b"], journal: true) == "<6>x k=\"a=b\"\n")
        #expect(
            line(.warning, "input will be retried", ["medtag.file": "a.txt"], journal: false)
                == "2026-01-01T00:00:00.000Z warning input will be retried medtag.file=a.txt\n")
    }

    @Test("under systemd an archive of many notes logs one info line; per-document lines are debug")
    func oneInfoLinePerInput() throws {
        // `auto`: each document's language is identified, and a line says which (at debug).
        let spool = try TestSpool(config: "language = auto")
        let members = (0..<30).map { "add(t, \"notas/n\($0).txt\", \"Toma paracetamol \($0) mg.\\\\n\".encode())" }.joined(separator: "\n    ")
        try makeArchive(
            spool.inbox.appendingPathComponent("lote de noche.tar.gz"),
            script: """
                def add(t, name, data):
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                with tarfile.open(out, "w:gz") as t:
                    \(members)
                """)
        for (arguments, perDocument, name) in [([String](), false, "\"lote de noche.tar.gz\""), (["--log-level", "debug"], true, "otra.tar.gz")] {
            let daemon = try MedtagProcess.serve(spool, arguments: arguments, environment: ["JOURNAL_STREAM": "8:12345"])
            try waitUntil("the archive is done", timeout: 60) { !spool.files(in: spool.done).isEmpty }
            daemon.signal(SIGTERM)
            #expect(try daemon.waitForExit() == 0)
            let lines = daemon.log.split(separator: "\n").map(String.init)
            #expect(lines.allSatisfy { $0.range(of: #"^<[2-7]>"#, options: .regularExpression) != nil }, "\(lines)")
            #expect(!lines.contains { $0.contains("2026-") || $0.range(of: #"^<\d>\d{4}-"#, options: .regularExpression) != nil })
            let annotated = lines.filter { $0.hasPrefix("<6>annotated ") }
            #expect(annotated.count == 1, "\(lines)")
            #expect(annotated.first?.contains("medtag.documents=30") == true && annotated.first?.contains("medtag.file=\(name) ") == true, "\(annotated)")
            #expect(lines.filter { $0.hasPrefix("<6>") }.count < 12, "a handful of info lines, not one per note: \(lines)")
            #expect(lines.contains { $0.hasPrefix("<6>language chosen") } == false)
            #expect(lines.contains { $0.hasPrefix("<7>language chosen") } == perDocument, "\(lines.prefix(20))")
            // Drop it again for the second run (it is kept under a numbered name).
            try FileManager.default.moveItem(
                at: spool.done.appendingPathComponent(spool.files(in: spool.done)[0]), to: spool.inbox.appendingPathComponent("otra.tar.gz"))
        }
    }
}
