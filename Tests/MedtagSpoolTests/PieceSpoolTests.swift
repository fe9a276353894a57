import Foundation
import Testing
import MedtagTestSupport

/// The daemon annotates long texts piece by piece: small pieces must give the files of whole documents.
@Suite("daemon: annotation in pieces")
struct PieceSpoolTests {
    /// About 60 KB of clinical text: short lines, blank lines, CRLF.
    static let longText = text(longLine: false)

    /// The same with one 4 KB line in the middle, which 1K pieces must cut at spaces.
    static func text(longLine: Bool) -> String {
        let note = (try? String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)) ?? ""
        var text = ""
        for n in 1...100 {
            text += note + (n % 7 == 0 ? "\r\n" : "\n")
            text += "Control \(n): se mantiene omeprazol 20 mg y metformina 850 mg.\n\n"
            if n == 50 && longLine { text += String(repeating: "Tratamiento con ibuprofeno 600 mg y heparina sódica. ", count: 80) + "\n" }
        }
        return text
    }

    static let archiveScript = """
        import sys
        text = open(sys.argv[2], "rb").read()
        with tarfile.open(out, "w:gz") as t:
            info = tarfile.TarInfo("notas/larga.txt"); info.size = len(text); t.addfile(info, io.BytesIO(text))
        """

    /// Runs one daemon on a spool holding the three inputs and returns what it published.
    func annotate(config: String, text: String = longText) throws -> (
        results: [String: [String: Data]], log: [[String: Any]], daemonLog: String
    ) {
        let spool = try TestSpool(config: config)
        try spool.drop("larga.txt", text: text)
        let paragraphs = text.split(separator: "\n\n").map { "<p>\($0.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))</p>" }
        try spool.drop("larga.xml", text: "<doc>\n\(paragraphs.joined(separator: "\n"))\n</doc>\n")
        let source = spool.root.appendingPathComponent("larga-source.txt")
        try text.write(to: source, atomically: true, encoding: .utf8)
        try makeArchive(spool.inbox.appendingPathComponent("lote.tar.gz"), script: Self.archiveScript, arguments: [source.path])
        let inputs = ["larga.txt", "larga.xml", "lote.tar.gz"]
        let daemon = try MedtagProcess.serve(spool)
        try waitUntil("the three inputs are done", timeout: 120) { spool.finished() == inputs || !daemon.process.isRunning }
        daemon.signal(SIGTERM)
        _ = try daemon.waitForExit()
        #expect(spool.files(in: spool.done) == inputs, "\(daemon.log.suffix(2000))")
        return (spool.outboxResults(inputs), spool.logRecords(), daemon.log)
    }

    @Test("a 1K piece size gives byte-identical results to the default for text, XML and archive members")
    func smallPiecesGiveTheSameFiles() throws {
        let whole = try annotate(config: "")
        let pieces = try annotate(config: "piece_size = 1K")
        #expect(whole.results.count == 3)
        for (input, files) in whole.results {
            #expect(Set(files.keys) == Set(pieces.results[input]?.keys ?? [:].keys), "\(input)")
            for (name, bytes) in files {
                #expect(pieces.results[input]?[name] == bytes, "\(input)/\(name) differs with 1K pieces")
            }
        }
        let copy = whole.results["larga.txt"]?["larga.txt"]
        #expect(copy == Data(Self.longText.utf8), "the .txt copy is the input")
        // 60 KB in 1K pieces is a large input: it says how far it is; in one piece it does not.
        let progress = pieces.daemonLog.split(separator: "\n").filter { $0.contains("annotating a large input") }
        #expect(progress.count == 9 && progress.contains { $0.contains("medtag.progress=50%") }, "\(progress)")
        #expect(!whole.daemonLog.contains("annotating a large input"))
        let entities = pieces.log.compactMap { $0["entities"] as? Int }
        #expect(entities.count == 3 && entities.allSatisfy { $0 > 500 }, "entities found in every input: \(entities)")
    }

    @Test("a line longer than a piece is cut at a space; every offset still points at its text")
    func longLineIsCutWithExactOffsets() throws {
        let text = Self.text(longLine: true)
        let run = try annotate(config: "piece_size = 1K", text: text)
        let scalars = Array(text.unicodeScalars)
        for input in ["larga.txt", "lote.tar.gz"] {
            let prefix = input == "larga.txt" ? "" : "notas/"
            let files = try #require(run.results[input])
            #expect(files["\(prefix)larga.txt"] == Data(text.utf8), "\(input): the .txt copy is the input")
            let ann = String(decoding: files["\(prefix)larga.ann"] ?? Data(), as: UTF8.self)
            var checked = 0
            for line in ann.split(separator: "\n") where line.hasPrefix("T") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                let span = fields[1].split(separator: " ")
                let (start, end) = (Int(span[1])!, Int(span[2])!)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[start..<end])
                #expect(String(view) == String(fields[2]), "\(input): \(line)")
                checked += 1
            }
            #expect(checked > 1000, "\(input): \(checked) entities checked")
        }
    }
}
