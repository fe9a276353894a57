import Foundation
import MedtagFormats
import Testing
import MedtagTestSupport

/// `medtag annotate` annotates documents on several threads: the files it writes must not depend on
/// how many, nor on whether the notes come as a folder, a .tar.gz or a .zip.
@Suite(.serialized)
struct ParallelAnnotateTests {
    /// Thirty notes of different lengths and an XML report in `root/notas/`, and the same folder as
    /// `notas.tar.gz` and `notas.zip`.
    static func inputs(in root: URL) throws -> (folder: URL, tar: URL, zip: URL) {
        let folder = root.appendingPathComponent("notas")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("planta"), withIntermediateDirectories: true)
        for i in 0..<30 {
            let text = String(repeating: ResultLayoutTests.notes[i % 4], count: 1 + i % 9)
            try Data(text.utf8).write(to: folder.appendingPathComponent(i % 5 == 0 ? "planta/n\(i).txt" : "n\(i).txt"))
        }
        try Data("<doc><p>Recibió heparina.</p></doc>".utf8).write(to: folder.appendingPathComponent("informe.xml"))
        let tar = root.appendingPathComponent("notas.tar.gz")
        let zip = root.appendingPathComponent("notas.zip")
        #expect(try run(URL(fileURLWithPath: "/bin/tar"), ["-czf", tar.path, "-C", root.path, "notas"]).status == 0)
        let zipped = try run(URL(fileURLWithPath: "/usr/bin/env"), ["sh", "-c", "cd '\(root.path)' && zip -qr notas.zip notas"])
        #expect(zipped.status == 0, "\(zipped.err)")
        return (folder, tar, zip)
    }

    /// Every file under `folder` by path, but the summary page (it records the run's time; its
    /// content is checked by the summary tests).
    static func files(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: folder.path) where name != "summary.html" {
            var isDirectory: ObjCBool = false
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: url)
            }
        }
        return files
    }

    /// `medtag annotate` with the default model, run in the test process.
    static func annotate(_ input: URL, workers: Int, into out: URL) throws -> [String: Data] {
        let result = try AnnotateHarness.run([input], out: out, model: nil, formats: [.brat, .conll, .csv, .tsv], workers: workers)
        #expect(result.status == 0, "\(result.warningText)")
        #expect(result.summary.contains("annotated 31 of 31 documents"), "\(result.summary)")
        return try files(out)
    }

    @Test func oneOrTwoWorkersAndFolderTarOrZipWriteTheSameFiles() throws {
        let root = try temporaryDirectory("parallel")
        defer { try? FileManager.default.removeItem(at: root) }
        let (folder, tar, zip) = try Self.inputs(in: root)
        let one = try Self.annotate(folder, workers: 1, into: root.appendingPathComponent("one"))
        let two = try Self.annotate(folder, workers: 2, into: root.appendingPathComponent("two"))
        #expect(one.count > 90)
        #expect(one.keys.sorted() == two.keys.sorted())
        for (name, bytes) in one { #expect(two[name] == bytes, "\(name) differs between 1 and 2 workers") }

        // From an archive each document's files lie under <archive>/notas/; the tables name the
        // archive in their `input` and `document` columns, and nothing else differs.
        for archive in [tar, zip] {
            let name = archive.lastPathComponent
            let packed = try Self.annotate(archive, workers: 2, into: root.appendingPathComponent("out-" + name))
            for (path, bytes) in one where !path.hasSuffix(".csv") && !path.hasSuffix(".tsv") {
                // CoNLL files name their document.
                let read = packed["\(name)/notas/\(path)"].map { String(decoding: $0, as: UTF8.self) }
                #expect(
                    read?.replacingOccurrences(of: "\(name)/notas/", with: "") == String(decoding: bytes, as: UTF8.self),
                    "\(path) differs when read from \(name)")
            }
            let csv = String(decoding: packed["medtag-all.csv"] ?? Data(), as: UTF8.self)
            let folderCSV = String(decoding: one["medtag-all.csv"] ?? Data(), as: UTF8.self)
            #expect(
                csv.replacingOccurrences(of: "\(name),\(name)/notas/", with: "notas,") == folderCSV, "the \(name) table has the folder's rows")
        }
    }
}
