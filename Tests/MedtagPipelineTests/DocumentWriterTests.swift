import Foundation
import MedtagFormats
import MedtagPipeline
import MedtagTestSupport
import Testing

/// The one loop that writes a document's pieces: files of the whole document, rows handed back,
/// the summary row with its files, and the reason a document yielded nothing.
struct DocumentWriterTests {
    /// Files kept in memory, by name.
    final class MemorySink: ResultSink {
        final class File {
            var bytes: [UInt8] = []
        }
        var files: [String: File] = [:]
        func create(_ name: String) throws -> File {
            let file = File()
            files[name] = file
            return file
        }
        func append(_ bytes: [UInt8], to file: File) throws { file.bytes += bytes }
    }

    static let pipeline = SharedFixture("the gazetteer model") {
        try Pipeline.load(
            modelDirectory: Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-gazetteer"),
            lexicon: Paths.packageRoot.appendingPathComponent("Models/lexicon"))
    }

    func write(_ pieces: [String], formats: [OutputFormat] = [.brat, .csv]) throws -> (WrittenDocument<MemorySink.File>?, MemorySink, Int) {
        let sink = MemorySink()
        var annotator = PieceAnnotator(annotator: try Self.pipeline(), id: "a/nota", folder: nil, pool: nil)
        var next = pieces[...]
        var rows = 0
        let written = try DocumentWriter.write(
            PieceAnnotation(id: "a/nota", baseName: "a/nota", formats: formats), to: sink,
            pieces: { () throws -> RoutedDocument? in try next.popFirst().map { try annotator.annotate($0) } },
            sinkError: { $0 }, rows: { rows += $0.filter { !$0.bytes.isEmpty }.count })
        return (written, sink, rows)
    }

    @Test("two pieces make one document: offsets of the whole text, its row names its files")
    func piecesMakeOneDocument() throws {
        let first = "Tratado con paracetamol.\n"
        let (written, sink, rows) = try write([first, "Se añadió omeprazol.\n"])
        let document = try #require(written)
        #expect(document.counts.entities == 2 && document.emptyReason == nil)
        let ann = String(decoding: try #require(sink.files["a/nota.ann"]).bytes, as: UTF8.self)
        let offset = first.utf8.count + "Se añadió ".count
        #expect(ann.contains("\(offset) \(offset + "omeprazol".count)\tomeprazol"), "second piece at its place in the whole text: \(ann)")
        let row = document.summaryRow(path: "a/nota.txt")
        #expect(row.files == document.files.map(\.name) && row.files.contains("a/nota.ann"))
        #expect(row.entities == 2 && row.note == nil)
        #expect(rows == 2, "one batch of CSV rows per piece")
    }

    @Test("a document that yields nothing says why")
    func emptyReasons() throws {
        #expect(try write(["   \n"]).0?.emptyReason == "empty text: nothing to annotate")
        let reason = try #require(try write(["Paciente sin alergias conocidas.\n"]).0?.emptyReason)
        #expect(reason.hasPrefix("the model found no drug"))
        #expect(try write([]).0 == nil, "no piece at all: no document")
    }
}
