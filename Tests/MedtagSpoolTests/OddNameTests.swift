import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// `annotate`, `ingest` and the daemon over file names that path handling gets wrong: one character,
/// a leading dot, several dots, no extension, spaces, non-ASCII letters, a very long name.
@Suite("odd file names", .serialized)
struct OddNameTests {
    /// A name of 200 bytes (98 two-byte letters and `.txt`).
    static let longName = String(repeating: "ñ", count: 98) + ".txt"

    /// Files every command reads, with the name their results take (the name without its extension).
    static let readable: [(file: String, key: String)] = [
        ("n.txt", "n"), ("é.txt", "é"), ("1.xml", "1"), ("a.b.c.txt", "a.b.c"), ("con espacio.txt", "con espacio"),
        ("ñandú año.txt", "ñandú año"), (longName, String(longName.dropLast(4))),
    ]
    /// A file without an extension: every command refuses its type, with the reason.
    static let withoutExtension = "LEEME"
    /// A name with a leading dot: read when named on the command line; the daemon's inbox skips it.
    static let dotName = (file: ".oculta.txt", key: ".oculta")
    /// An archive with a one-character name, holding members with odd names.
    static let archive = "z.zip"
    static let archiveScript = """
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("n.txt", "Paciente tratado con paracetamol.\\n")
            z.writestr("x/é.txt", "Se pautó omeprazol 20 mg.\\n")
            z.writestr("a.b.c.txt", "Sin cambios en la pauta de enalapril.\\n")
            z.writestr("ñandú año.txt", "Tratado con paracetamol.\\n")
        """
    /// The members' names without extension: a zip marks a non-ASCII name as UTF-8, which the
    /// archive library once turned into no name at all in a process without a locale.
    static let archiveKeys = ["n", "x/é", "a.b.c", "ñandú año"]

    static func text(_ file: String) -> String {
        file.hasSuffix(".xml") ? "<doc><title>Tratado con paracetamol</title></doc>" : "Tratado con paracetamol y enalapril.\n"
    }

    /// The text of a file as its BRAT `.txt` copy holds it (an XML file's extracted text).
    static func copy(_ file: String) -> String { file.hasSuffix(".xml") ? "Tratado con paracetamol\n" : text(file) }

    /// Writes the odd files into `folder` (the archive too); returns their names.
    static func writeInputs(into folder: URL, dotName: Bool = true) throws -> [String] {
        var names = readable.map(\.file) + [withoutExtension]
        if dotName { names.append(Self.dotName.file) }
        for name in names { try Data(text(name).utf8).write(to: folder.appendingPathComponent(name)) }
        try makeArchive(folder.appendingPathComponent(archive), script: archiveScript)
        return names + [archive]
    }

    @Test("annotate writes the results of every odd name and refuses only the one without an extension")
    func annotate() throws {
        let root = try temporaryDirectory("odd-annotate")
        defer { removeTemporaryDirectory(root) }
        let inputs = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let names = try Self.writeInputs(into: inputs)

        // Each file named on the command line.
        let out = root.appendingPathComponent("out")
        let files = try AnnotateHarness.run(names.map { inputs.appendingPathComponent($0) }, out: out, model: testModel)
        #expect(files.status == 1, "only the file without an extension fails: \(files.warningText)")
        #expect(!files.warningText.contains("Illegal instruction") && !files.warningText.contains("crashed"), "\(files.warningText)")
        #expect(files.warningText.contains("\(Self.withoutExtension): unsupported input type"), "\(files.warningText)")
        #expect(
            files.summary.contains("annotated \(Self.readable.count + 1 + Self.archiveKeys.count) of \(names.count + Self.archiveKeys.count - 1) documents"),
            "\(files.summary)")
        for (file, key) in Self.readable + [Self.dotName] {
            try expectResults(in: out, key: key, text: Self.copy(file))
        }
        for key in Self.archiveKeys { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("z.zip/\(key).ann").path), "z.zip/\(key)") }

        // The folder itself: the same results. A folder is searched for the types medtag reads, so the
        // file without an extension is not taken, and a dot-name is skipped as the daemon skips it.
        let folderOut = root.appendingPathComponent("folder-out")
        let folder = try AnnotateHarness.run([inputs], out: folderOut, model: testModel)
        #expect(folder.status == 0, "\(folder.warningText)")
        #expect(
            folder.summary.contains("annotated \(Self.readable.count + Self.archiveKeys.count) of \(Self.readable.count + Self.archiveKeys.count) documents"),
            "\(folder.summary)")
        for (file, key) in Self.readable {
            #expect(
                FileManager.default.contents(atPath: folderOut.appendingPathComponent("\(key).ann").path)
                    == FileManager.default.contents(atPath: out.appendingPathComponent("\(key).ann").path), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: folderOut.appendingPathComponent("\(Self.dotName.key).ann").path))
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: folderOut.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("ingest annotates every odd name into its own outbox folder")
    func ingest() throws {
        let spool = try TestSpool()
        let inputs = spool.root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let names = try Self.writeInputs(into: inputs)
        let result = try runMedtag(["ingest", "--config", spool.configFile.path, "--quiet"] + names.map { inputs.appendingPathComponent($0).path }, in: spool)
        #expect(result.status == 1, "only the file without an extension fails: \(result.output)")
        #expect(result.output.contains("\(Self.withoutExtension): FAILED: ") && result.output.contains("unsupported input type"), "\(result.output)")
        for (file, key) in Self.readable + [Self.dotName] {
            #expect(result.output.contains("\(file): 1 documents annotated"), "\(file): \(result.output)")
            try expectResults(in: spool.outbox.appendingPathComponent(file), key: key, text: Self.copy(file))
        }
        #expect(result.output.contains("\(Self.archive): \(Self.archiveKeys.count) documents annotated, 0 refused"), "\(result.output)")
        for key in Self.archiveKeys {
            #expect(FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent("\(Self.archive)/\(key).ann").path), "\(key)")
        }
        #expect(spool.files(in: spool.failed) == [Self.withoutExtension, "\(Self.withoutExtension).error.json"])
        #expect(spool.files(in: spool.work).isEmpty && spool.files(in: spool.tmp).isEmpty)
    }

    @Test("the daemon annotates every odd name dropped into the inbox and leaves a dot-name alone")
    func daemon() throws {
        let spool = try TestSpool()
        let daemon = try MedtagProcess.serve(spool)
        for (file, _) in Self.readable + [(Self.withoutExtension, "")] { try spool.drop(file, text: Self.text(file)) }
        try makeArchive(spool.root.appendingPathComponent(Self.archive), script: Self.archiveScript)
        try FileManager.default.moveItem(at: spool.root.appendingPathComponent(Self.archive), to: spool.inbox.appendingPathComponent(Self.archive))
        try Data(Self.text(Self.dotName.file).utf8).write(to: spool.inbox.appendingPathComponent(Self.dotName.file))

        let expected = (Self.readable.map(\.file) + [Self.withoutExtension, Self.archive]).sorted()
        try waitUntil("every odd name is in done/ or failed/", timeout: 60) { spool.finished() == expected }
        #expect(daemon.process.isRunning, "the daemon is still running:\n\(daemon.log)")
        for (file, key) in Self.readable {
            try expectResults(in: spool.outbox.appendingPathComponent(file), key: key, text: Self.copy(file))
        }
        for key in Self.archiveKeys {
            #expect(FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent("\(Self.archive)/\(key).ann").path), "\(key)")
        }
        #expect(spool.files(in: spool.failed) == [Self.withoutExtension, "\(Self.withoutExtension).error.json"])
        #expect(
            FileManager.default.fileExists(atPath: spool.inbox.appendingPathComponent(Self.dotName.file).path), "a dot-name stays in the inbox")
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
        #expect(spool.files(in: spool.work).isEmpty && spool.files(in: spool.tmp).isEmpty)
    }

    /// Checks a document's BRAT, text and CoNLL results in `folder`: the copy of the text is the
    /// input's, and the BRAT file names the paracetamol it holds.
    private func expectResults(in folder: URL, key: String, text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for ext in ["ann", "txt", "conll"] {
            #expect(
                FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(key).\(ext)").path), "\(key).\(ext) in \(folder.path)",
                sourceLocation: sourceLocation)
        }
        let copy = try? String(contentsOf: folder.appendingPathComponent("\(key).txt"), encoding: .utf8)
        #expect(copy == text, "the text copy of \(key)", sourceLocation: sourceLocation)
        let ann = (try? String(contentsOf: folder.appendingPathComponent("\(key).ann"), encoding: .utf8)) ?? ""
        #expect(ann.contains("\tparacetamol"), "\(key).ann: \(ann)", sourceLocation: sourceLocation)
        let csv = (try? String(contentsOf: folder.appendingPathComponent("medtag-all.csv"), encoding: .utf8)) ?? ""
        #expect(csv.contains(key), "medtag-all.csv names \(key)", sourceLocation: sourceLocation)
    }
}
