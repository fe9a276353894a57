import Foundation
import MedtagIngest
import MedtagPipeline
import MedtagTagging
import MedtagTestSupport
import MedtagText
import SystemPackage
import Testing

/// Documents annotated together (their sentences in shared tagger batches) must come out as if each
/// had been annotated alone, and the stage must hand every outcome back in order.
@Suite(.serialized)
struct AnnotationStageTests {
    static let spanishModel = Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-bilstm-crf")

    /// Notes of very different lengths, so the tagger's length-sorted batches mix sentences of
    /// several documents; one empty and one of whitespace only.
    static func notes() -> [String] {
        var notes = (0..<24).map { i in
            (0...(i % 7)).map { ResultLayoutTests.notes[($0 + i) % ResultLayoutTests.notes.count] }.joined()
        }
        notes[5] = ""
        notes[9] = "  \n\n "
        notes[13] = "Paciente de 54 años. Se inició tratamiento con amoxicilina-clavulánico 875/125 mg cada 8 horas, "
            + "con proteína C reactiva de 12 mg/dL y S-100 negativa.\nSin alergias conocidas."
        return notes
    }

    static func entities(_ document: Document) -> [String] {
        document.entities.map { "\($0.label) \($0.start) \($0.end) \($0.text) \($0.code ?? "-")" }
    }

    @Test("a batch of texts is annotated exactly as each text alone (neural model, lexicon)")
    func batchEqualsAlone() throws {
        let pipeline = try Pipeline.load(
            modelDirectory: Self.spanishModel, lexicon: Paths.packageRoot.appendingPathComponent("Models/lexicon"))
        let notes = Self.notes()
        let batch = pipeline.annotateBatchTimed(notes.enumerated().map { ("n\($0.offset)", $0.element) })
        #expect(batch.count == notes.count)
        var entities = 0
        for (k, note) in notes.enumerated() {
            let alone = try pipeline.annotate(id: "n\(k)", text: note)
            let together = try batch[k].get()
            #expect(together.document.id == "n\(k)")
            #expect(together.document.tokens.count == alone.tokens.count)
            #expect(Self.entities(together.document) == Self.entities(alone), "note \(k)")
            #expect(together.timings.map(\.stage) == pipeline.components.map(\.name))
            entities += alone.entities.count
        }
        #expect(entities > 30, "the notes name many drugs")
    }

    /// Records the groups it is given; fails on texts containing `FALLA`.
    final class RecordingAnnotator: DocumentAnnotator, @unchecked Sendable {
        private let lock = NSLock()
        private var groups: [[String]] = []
        var conllScheme: TagScheme { .bio }
        var recorded: [[String]] { lock.withLock { groups } }

        func annotateTimed(id: String, text: String) throws -> (document: Document, timings: [StageTiming]) {
            if text.contains("FALLA") { throw TestFailure("no annotation for \(id)") }
            return (Document(id: id, text: text), [])
        }

        func annotateBatch(_ requests: [AnnotationRequest]) -> [Result<RoutedDocument, any Error>] {
            lock.withLock { groups.append(requests.map(\.id)) }
            return requests.map { request in Result { try annotateRouted(id: request.id, text: request.text, folder: request.folder) } }
        }
    }

    /// Writes `files` into a new folder and reads each back as an input document, in order.
    static func documents(_ files: [(name: String, bytes: [UInt8])], in root: URL) throws -> [InputDocument] {
        try files.map { file in
            let url = root.appendingPathComponent(file.name)
            try Data(file.bytes).write(to: url)
            let input = try InputDocuments(path: FilePath(url.path), limits: InputLimits())
            guard case .document(let document)? = try input.next() else { throw TestFailure("\(file.name) gave no document") }
            return document
        }
    }

    @Test("outcomes come back in order with 1 or 2 workers; short documents are grouped, a long one is cut in pieces")
    func stageOrderGroupsAndFailures() throws {
        let root = try temporaryDirectory("stage")
        defer { removeTemporaryDirectory(root) }
        var limits = InputLimits()
        limits.pieceBytes = 4096
        var files: [(name: String, bytes: [UInt8])] = (0..<40).map { ("n\($0).txt", Array("Nota \($0) con heparina.\n".utf8)) }
        files[7] = ("n7.txt", Array("Nota 7: FALLA.\n".utf8))
        files[11] = ("n11.txt", [0x66, 0xff, 0xfe, 0x0a])  // not UTF-8
        files[20] = ("n20.txt", Array(String(repeating: "Recibió paracetamol 1 g cada 8 horas.\n", count: 400).utf8))
        let documents = try Self.documents(files, in: root)
        for workers in [1, 2] {
            let annotator = RecordingAnnotator()
            let stage = AnnotationStage<Never>(annotator: annotator, workers: workers, limits: limits, batchBytes: 200)
            var log: [String] = []
            for (k, document) in documents.enumerated() {
                if k == 30 { stage.add { log.append("step") } }
                stage.add(document, id: "n\(k)", folder: nil) { outcome in
                    switch outcome.pieces {
                    case .success(let pieces):
                        log.append("n\(k):\(pieces.count > 1 ? "pieces" : "\(pieces.count)")")
                        let text = pieces.map(\.document.text).joined()
                        #expect(Array(text.utf8) == files[k].bytes, "n\(k) keeps its text, piece after piece")
                    case .failure(.unreadable): log.append("n\(k):unreadable")
                    case .failure(.annotation(let error)): log.append("n\(k):failed \(error)")
                    }
                }
            }
            stage.finish()
            var expected = (0..<40).map { "n\($0):1" }
            expected[7] = "n7:failed no annotation for n7"
            expected[11] = "n11:unreadable"
            expected[20] = "n20:pieces"
            expected.insert("step", at: 30)
            #expect(log == expected, "\(workers) workers")
            // Groups run on two threads may be recorded in either order; each is a run of consecutive documents.
            let groups = annotator.recorded.sorted { Int($0[0].dropFirst())! < Int($1[0].dropFirst())! }
            #expect(groups.flatMap { $0 } == (0..<40).filter { ![11, 20].contains($0) }.map { "n\($0)" })
            #expect(groups.contains { $0.count > 1 }, "short documents travel together")
            #expect(groups.allSatisfy { $0.count <= 10 }, "a group holds about batchBytes of text")
        }
    }
}
