import Foundation
import Testing
import MedtagTestSupport

/// The documents of an archive are annotated on several threads: what is published must not depend
/// on how many, nor on the archive format.
@Suite("archive documents on several workers")
struct ParallelArchiveTests {
    /// Forty notes with a refused member, a nested archive, an empty note and two members whose
    /// results would collide, written as `kind` (`tar.gz` or `zip`).
    static func script(_ kind: String) -> String {
        """
        notes = ["Se pautó omeprazol 20 mg y paracetamol 1 g.\\n", "Tratamiento con enalapril y ibuprofeno 600 mg.\\n",
                 "Recibió insulina glargina y heparina.\\n", "Sin cambios; sigue con paracetamol.\\n"]
        members = [("notas/n%02d.txt" % i, (notes[i % 4] * (1 + i % 7)).encode()) for i in range(40)]
        members += [("notas/vacia.txt", b""), ("../fuera.txt", b"paracetamol"), ("notas/n03.xml", b"<doc>heparina</doc>"),
                    ("informe.pdf", b"%PDF-1.4")]
        inner = io.BytesIO()
        with tarfile.open(fileobj=inner, mode="w") as t:
            for name, data in [("dentro/a.txt", notes[0].encode()), ("dentro/b.txt", notes[2].encode())]:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        members.insert(20, ("anidado.tar", inner.getvalue()))
        if "\(kind)" == "zip":
            with zipfile.ZipFile(out, "w") as z:
                for name, data in members: z.writestr(name, data)
        else:
            with tarfile.open(out, "w:gz") as t:
                for name, data in members:
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        """
    }

    /// Ingests `lote.<kind>` with `workers` and returns every published file by path, and the report.
    static func ingest(_ kind: String, workers: Int) throws -> (files: [String: Data], output: String) {
        let spool = try TestSpool(workers: workers)
        let archive = spool.root.appendingPathComponent("lote.\(kind)")
        try makeArchive(archive, script: script(kind))
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, archive.path], in: spool)
        #expect(run.status == 0, "\(run.output)")
        let folder = spool.outbox.appendingPathComponent("lote.\(kind)")
        var files: [String: Data] = [:]
        for name in spool.files(in: folder) {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            // The summary page records the run's time: compared without it.
            files[name] = name == "summary.html" ? summaryWithoutTimes(bytes) : bytes
        }
        return (files, run.output)
    }

    @Test("one or two workers publish byte-identical results, refusals and report included; tar.gz and zip the same documents")
    func workersAndFormatsGiveTheSameFiles() throws {
        let one = try Self.ingest("tar.gz", workers: 1)
        let two = try Self.ingest("tar.gz", workers: 2)
        #expect(one.output.contains("42 documents annotated, 4 refused"), "\(one.output)")
        #expect(one.files.keys.sorted() == two.files.keys.sorted())
        for (name, bytes) in one.files { #expect(two.files[name] == bytes, "\(name) differs between 1 and 2 workers") }
        #expect(one.files["anidado.tar/dentro/b.ann"] != nil, "the nested archive's documents are published")
        let report = String(decoding: one.files["medtag-report.json"] ?? Data(), as: UTF8.self)
        for refused in ["../fuera.txt", "informe.pdf", "notas/vacia.txt", "notas/n03.xml"] {
            #expect(report.contains(refused), "\(refused) is listed as refused: \(report)")
        }

        // The same members in a zip: the same document files (tables and report name their input).
        let zip = try Self.ingest("zip", workers: 2)
        let documents = one.files.keys.filter {
            !$0.hasSuffix(".csv") && !$0.hasSuffix(".tsv") && $0 != "medtag-report.json" && $0 != "summary.html"
        }
        #expect(documents.count > 80)
        for name in documents { #expect(zip.files[name] == one.files[name], "\(name) differs between tar.gz and zip") }
    }

    @Test("an archive of no member and one of a single member are published")
    func emptyAndSingleMemberArchives() throws {
        let spool = try TestSpool(workers: 2)
        try makeArchive(spool.root.appendingPathComponent("vacio.tar.gz"), script: "tarfile.open(out, 'w:gz').close()")
        try makeArchive(
            spool.root.appendingPathComponent("uno.zip"),
            script: "with zipfile.ZipFile(out, 'w') as z: z.writestr('n.txt', 'Se pautó omeprazol.\\n')")
        let run = try runMedtag(
            ["ingest", "--config", spool.configFile.path] + ["vacio.tar.gz", "uno.zip"].map { spool.root.appendingPathComponent($0).path },
            in: spool)
        #expect(run.output.contains("uno.zip: 1 documents annotated, 0 refused"), "\(run.output)")
        #expect(run.output.contains("vacio.tar.gz: 0 documents annotated, 0 refused"), "\(run.output)")
        #expect(run.status == 0, "\(run.output)")
        #expect(spool.files(in: spool.outbox.appendingPathComponent("uno.zip")).contains("n.ann"))
    }
}
