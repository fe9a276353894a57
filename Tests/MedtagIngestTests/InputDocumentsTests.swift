import Foundation
import SystemPackage
import Testing

@testable import MedtagIngest
import MedtagTestSupport

/// The one reading of inputs: files, XML and archives (nested ones too) as documents or refusals.
@Suite("input documents")
struct InputDocumentsTests {
    @Test("archive member names", arguments: [
        ("a/b.txt", "a/b.txt"), ("./a//b.txt", "a/b.txt"), ("../x.txt", nil), ("a/../../x", nil), ("/etc/passwd", nil),
        ("a/.hidden.txt", nil), ("./", ""),
    ] as [(String, String?)])
    func memberNames(raw: String, expected: String?) {
        switch MemberPath.check(raw) {
        case .accepted(let path): #expect(path == expected)
        case .skipped: #expect(expected == "")
        case .refused: #expect(expected == nil)
        }
    }

    @Test("input kinds, base names and document keys")
    func kinds() {
        #expect(InputKind(fileName: "a.TXT") == .text)
        #expect(InputKind(fileName: "a.xml") == .xml)
        for name in ["a.tar", "a.tar.gz", "a.tgz", "a.tar.bz2", "a.tar.xz", "a.zip"] {
            #expect(InputKind(fileName: name) == .archive)
        }
        #expect(InputKind(fileName: "a.pdf") == nil)
        #expect(InputKind.baseName("nota.txt") == "nota")
        #expect(InputKind.baseName("lote.tar.gz") == "lote")
        #expect(InputKind.documentKey("interno.tar/notas/n1.txt") == "interno.tar/notas/n1")
    }

    /// Writes `name` in `folder` with Python's tarfile/zipfile (see ``makeArchive(_:script:arguments:)``).
    static func archive(_ name: String, in folder: URL, _ script: String) throws -> FilePath {
        let path = folder.appendingPathComponent(name)
        try makeArchive(path, script: script)
        return FilePath(path.path)
    }

    /// Every entry of an input: documents as `path=text` (trimmed), refusals as `!path: reason`.
    static func entries(_ path: FilePath, limits: InputLimits = InputLimits()) throws -> [String] {
        let documents = try InputDocuments(path: path, limits: limits)
        var entries: [String] = []
        while let entry = try documents.next() {
            switch entry {
            case .document(let document): entries.append("\(document.path)=\(try document.pieces(limits: limits).text().trimmingCharacters(in: .whitespacesAndNewlines))")
            case .refused(let path, let reason): entries.append("!\(path): \(reason)")
            }
        }
        return entries
    }

    @Test("an archive's documents in order, nested archives read, every other member refused with its reason")
    func archiveWalk() throws {
        let folder = try temporaryDirectory("ingest")
        defer { removeTemporaryDirectory(folder) }
        let path = try Self.archive(
            "lote.tar.gz", in: folder,
            """
            def tar(members):
                data = io.BytesIO()
                with tarfile.open(fileobj=data, mode="w") as t:
                    for name, body in members:
                        info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
                return data.getvalue()
            deep = tar([("c.txt", b"tres")])
            inner = tar([("dentro/b.txt", b"dos"), ("hondo.tar", deep)])
            with tarfile.open(out, "w:gz") as t:
                for name, body in [("notas/a.txt", b"uno"), ("notas/a.xml", b"<d>x</d>"), ("../fuera.txt", b"x"),
                                   ("informe.pdf", b"%PDF"), ("interno.tar", inner), ("roto.zip", b"not a zip"),
                                   ("grande.txt", b"x" * 40000), ("d.xml", b"<doc><p>cuatro</p></doc>")]:
                    info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
                link = tarfile.TarInfo("enlace.txt"); link.type = tarfile.SYMTYPE; link.linkname = "notas/a.txt"; t.addfile(link)
            """)
        var limits = InputLimits()
        limits.archive.maxDepth = 1
        limits.archive.maxMemberBytes = 32768
        let entries = try Self.entries(path, limits: limits)
        #expect(entries.count == 10, "\(entries)")
        #expect(entries.first == "notas/a.txt=uno")
        #expect(entries.contains("!notas/a.xml: its results would overwrite those of `notas/a.txt`"))
        #expect(entries.contains("!../fuera.txt: path leaves the archive (`..`)"))
        #expect(entries.contains { $0.hasPrefix("!informe.pdf: unsupported member type") })
        #expect(entries.contains("interno.tar/dentro/b.txt=dos"))
        #expect(entries.contains("!interno.tar/hondo.tar: archive nested deeper than 1 (archive_max_depth)"))
        #expect(entries.contains { $0.hasPrefix("!roto.zip: not a readable archive") })
        #expect(entries.contains("!grande.txt: larger than 32768 bytes (archive_max_member_size)"))
        #expect(entries.contains("d.xml=cuatro"))
        #expect(entries.last == "!enlace.txt: symbolic link")

        limits.archive.maxDepth = 2
        #expect(try Self.entries(path, limits: limits).contains("interno.tar/hondo.tar/c.txt=tres"))
    }

    @Test("archives of no member and of one member; a damaged archive fails as a whole")
    func smallAndDamagedArchives() throws {
        let folder = try temporaryDirectory("ingest")
        defer { removeTemporaryDirectory(folder) }
        #expect(try Self.entries(try Self.archive("vacio.tar.gz", in: folder, "tarfile.open(out, 'w:gz').close()")).isEmpty)
        let one = try Self.archive("uno.zip", in: folder, "with zipfile.ZipFile(out, 'w') as z: z.writestr('n.txt', 'nota')")
        #expect(try Self.entries(one) == ["n.txt=nota"])
        let damaged = folder.appendingPathComponent("roto.tar.gz")
        try Data("not an archive".utf8).write(to: damaged)
        #expect {
            try Self.entries(FilePath(damaged.path))
        } throws: { error in
            (error as? IngestError)?.stage == .archive && "\(error)".contains("not a readable archive")
        }
    }

    @Test("a text file is read in pieces, XML whole within max_xml_size, other files refused")
    func files() throws {
        let folder = try temporaryDirectory("ingest")
        defer { removeTemporaryDirectory(folder) }
        let text = folder.appendingPathComponent("nota.txt")
        try Data(String(repeating: "Se pauta omeprazol.\n", count: 200).utf8).write(to: text)
        var limits = InputLimits()
        limits.pieceBytes = 1024
        let documents = try InputDocuments(path: FilePath(text.path), limits: limits)
        let document = try #require(try documents.next()?.document)
        #expect(document.isStreamed && document.key == "nota" && document.size == 4000)
        let pieces = try document.pieces(limits: limits)
        var count = 0
        while let piece = try pieces.next() {
            #expect(piece.utf8.count <= 1024)
            count += 1
        }
        #expect(count == 4)
        #expect(try documents.next() == nil)

        let xml = folder.appendingPathComponent("informe.xml")
        try Data("<doc><p>heparina</p></doc>".utf8).write(to: xml)
        #expect(try Self.entries(FilePath(xml.path)) == ["informe.xml=heparina"])
        limits.maxXMLBytes = 10
        #expect {
            try Self.entries(FilePath(xml.path), limits: limits)
        } throws: { error in
            "\(error)" == "larger than 10 bytes (max_xml_size)"
        }
        let pdf = folder.appendingPathComponent("informe.pdf")
        try Data("%PDF".utf8).write(to: pdf)
        #expect(throws: IngestError.self) { try InputDocuments(path: FilePath(pdf.path), limits: InputLimits()) }
        #expect {
            try InputDocuments(path: FilePath(folder.path), limits: InputLimits())
        } throws: { error in
            "\(error)".hasPrefix("a folder, not a file")
        }
    }

    @Test("a text file read whole: XML by its extension, errors naming the file and the reason")
    func documentText() throws {
        let folder = try temporaryDirectory("document-text")
        defer { removeTemporaryDirectory(folder) }
        let xml = FilePath(folder.appendingPathComponent("nota.XML").path)
        try Data("<d>Tratado con AAS</d>".utf8).write(to: URL(fileURLWithPath: xml.string))
        #expect(try DocumentText.read(xml) == "Tratado con AAS\n")
        let text = FilePath(folder.appendingPathComponent("nota.txt").path)
        try Data("\u{FEFF}Hola".utf8).write(to: URL(fileURLWithPath: text.string))
        #expect(try DocumentText.read(text) == "Hola")
        let latin1 = FilePath(folder.appendingPathComponent("latin1.txt").path)
        try Data([0x41, 0xE1, 0x42]).write(to: URL(fileURLWithPath: latin1.string))
        #expect(throws: TextFileError.self) { try DocumentText.read(latin1) }
        do { _ = try DocumentText.read(latin1) } catch {
            #expect(error.path == latin1.string && error.description.hasPrefix("\(latin1): not valid UTF-8"), "\(error)")
        }
        let missing = FilePath(folder.appendingPathComponent("no-existe.txt").path)
        do { _ = try DocumentText.read(missing) } catch {
            #expect(error.description == "\(missing): No such file or directory")
        }
    }

    @Test("a BRAT folder: texts and annotations side by side, hidden files left out, errors naming the file")
    func bratFolder() throws {
        let url = try temporaryDirectory("brat-folder")
        defer { removeTemporaryDirectory(url) }
        func write(_ name: String, _ contents: String) throws { try Data(contents.utf8).write(to: url.appendingPathComponent(name)) }
        try write("a.txt", "Tratado con AAS.\n")
        try write("a.ann", "T1\tNORMALIZABLES 12 15\tAAS\n#1\tAnnotatorNotes T1\t387458008\n")
        try write("b.txt", "Sin menciones.\n")
        try write(".c.ann", "")
        try write("d.ann", "T1\tX uno dos\tx\n")
        let folder = BRATFolder(url.path)
        #expect(try folder.documentIDs() == ["a", "b"])
        #expect(try folder.annotatedIDs() == ["a", "d"])
        #expect(try folder.annotationsIfPresent("b") == nil)
        #expect(try folder.annotations("a").map(\.code) == ["387458008"])
        let d = folder.file("d", extension: "ann").string
        #expect { try folder.annotations("d") } throws: { "\($0)".hasPrefix("\(d): ") && "\($0)".contains("line 1") }
        let documents = try folder.documents()
        #expect(documents.map(\.id) == ["a", "b"])
        #expect(documents[0].entities.map(\.text) == ["AAS"] && documents[1].entities.isEmpty)
        #expect { try BRATFolder(url.appendingPathComponent("no-existe").path).documentIDs() } throws: {
            "\($0)".hasSuffix("no-existe: No such file or directory")
        }
    }
}

extension InputEntry {
    /// The document, if this is one.
    var document: InputDocument? {
        if case .document(let document) = self { document } else { nil }
    }
}
