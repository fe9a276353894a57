import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// Broken and hostile inputs: each ends in failed/ with a reason a person can act on (or, for
/// archives, with its bad members refused and listed), nothing is written outside the spool, and the
/// daemon keeps serving.
@Suite("hostile and broken inputs", .serialized)
struct HostileInputTests {
    /// Inputs the daemon must refuse as a whole: name → words the reason must contain.
    static let refusedInputs: [(name: String, reason: String)] = [
        ("invalido.txt", "not valid UTF-8"),
        ("binario.txt", "binary"),
        ("vacio.txt", "empty"),
        ("blancos.txt", "only whitespace"),
        ("vacio.tar.gz", "archive"),
        ("vacio.zip", "archive"),
        ("cortado.tar.gz", "truncated"),
        ("basura.zip", "archive"),
        ("bomba.zip", "compression bomb"),
        ("bomba.tar.gz", "compression bomb"),
        ("profundo.xml", "deep"),
        ("sin-cerrar.xml", "unterminated"),
        ("programa.exe", "unsupported input type"),
        ("enlace.txt", "not a regular file"),
        ("tubo.txt", "not a regular file"),
        ("dispositivo.txt", "not a regular file"),
        ("ma\nlo \"x\" 'y'.txt", "not valid UTF-8"),
        ("mal_nombre.txt", "binary"),
        // XML that asks for external files or entity expansion: refused, never resolved or expanded.
        ("xxe.xml", "declares entities in its DOCTYPE"),
        ("risas.xml", "declares entities in its DOCTYPE"),
        ("dtd-externo.xml", "external DTD"),
    ]

    static func writeHostileInputs(_ spool: TestSpool) throws {
        let inbox = spool.inbox
        func put(_ name: String, _ bytes: [UInt8]) throws { try spool.drop(name, bytes) }

        try put("invalido.txt", Array("Paracetamol 1 g ".utf8) + [0xC3, 0x28, 0xFF] + Array(" fin".utf8))
        try put("binario.txt", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + (0..<255).map { UInt8($0) })
        try put("vacio.txt", [])
        try put("blancos.txt", Array(" \n\t\r\n   \u{00A0}\n".utf8))
        try put("vacio.tar.gz", [])
        try put("vacio.zip", [])
        try put("basura.zip", Array("PK\u{3}\u{4} esto no es un zip".utf8))
        try put("programa.exe", [0x4D, 0x5A, 0x90, 0x00])
        // 100,000 nested elements: a recursive parser would blow its stack.
        try put("profundo.xml", Array((String(repeating: "<a>", count: 100_000) + "texto" + String(repeating: "</a>", count: 100_000)).utf8))
        try put("sin-cerrar.xml", Array("<doc><!-- nunca se cierra <title>x</title></doc>".utf8))
        // A name with a newline and quotes, and content that is not UTF-8.
        try put("ma\nlo \"x\" 'y'.txt", [0x41, 0xFF, 0x42])
        // A name that is not UTF-8 (Latin-1 "ñ"), content binary.
        let raw = Array(inbox.path.utf8) + Array("/mal".utf8) + [0xF1] + Array("nombre.txt".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        }
        #expect(fd >= 0)
        _ = write(fd, [0x00, 0x01, 0x02], 3)
        close(fd)
        // Not regular files: a symbolic link to a secret, a FIFO (opening it would block forever), a device.
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("enlace.txt").path, withDestinationPath: "/etc/shadow")
        #expect(mkfifo(inbox.appendingPathComponent("tubo.txt").path, 0o644) == 0)
        #expect(mknod(inbox.appendingPathComponent("dispositivo.txt").path, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0, "mknod needs root")

        try python(
            """
            def tgz(members, mode="w:gz"):
                buf = io.BytesIO()
                with tarfile.open(fileobj=buf, mode=mode) as t:
                    for name, data in members:
                        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                return buf.getvalue()
            def zipped(members):
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                    for name, data in members: z.writestr(name, data)
                return buf.getvalue()
            def put(name, data):
                tmp = os.path.join(out, "." + name + ".part"); open(tmp, "wb").write(data); os.rename(tmp, os.path.join(out, name))
            note = "Se pautó paracetamol y omeprazol.\\n".encode()
            whole = tgz([("uno.txt", note * 2000)])
            put("cortado.tar.gz", whole[: len(whole) // 2])
            # Ratio about 1000:1, 64 MiB of zeros in one member.
            put("bomba.zip", zipped([("cero.txt", b"0" * (64 << 20))]))
            put("bomba.tar.gz", tgz([("cero.txt", b"0" * (64 << 20))]))
            # Deep nesting: zips of zips, ten copies at each level, the innermost a bomb (20 GiB in all).
            level = zipped([("cero.txt", b"0" * (20 << 20))])
            for depth in range(3):
                level = zipped([("capa%d-%d.zip" % (depth, k), level) for k in range(10)])
            put("anidada.zip", level)
            # Members that try to leave the archive, or are not files.
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as t:
                def add(name, kind=tarfile.REGTYPE, link="", data=note):
                    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link
                    if kind == tarfile.REGTYPE:
                        info.size = len(data); t.addfile(info, io.BytesIO(data))
                    else:
                        t.addfile(info)
                add("../../escapado.txt")
                add("/tmp/absoluto.txt")
                add("a/../../escapado2.txt")
                add("enlace.txt", tarfile.SYMTYPE, "/etc/shadow")
                add("duro.txt", tarfile.LNKTYPE, "/etc/shadow")
                add("tty.txt", tarfile.CHRTYPE)
                add("disco.txt", tarfile.BLKTYPE)
                add("tubo.txt", tarfile.FIFOTYPE)
                add(".oculto.txt")
                add("bueno.txt")
            put("trampas.tar", buf.getvalue())
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("../../escapado.txt", note)
                z.writestr("/tmp/absoluto.txt", note)
                link = zipfile.ZipInfo("enlace.txt"); link.external_attr = (0o120777 << 16); link.create_system = 3
                z.writestr(link, "/etc/shadow")
                z.writestr("bueno.txt", note)
            put("trampas.zip", buf.getvalue())
            # XML that asks for external files and entity expansion.
            put("xxe.xml", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY red SYSTEM "http://192.0.2.1/x">]><d><title>&xxe;&red; paracetamol</title></d>')
            lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10) for i in range(1, 10)) + ']><lolz><title>&lol9; paracetamol</title></lolz>'
            put("risas.xml", lol.encode())
            put("dtd-externo.xml", b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d>omeprazol</d>')
            # One line of 2 MB, 45,000 mentions in one sentence: no newline anywhere.
            put("larga.txt", ("la paciente del ala norte toma paracetamol " * 45000).encode())
            """, inbox)
    }

    @Test("every hostile input is refused with a reason or defused, and the daemon keeps serving")
    func hostileInputs() throws {
        let spool = try TestSpool()
        try Self.writeHostileInputs(spool)
        let started = Date()
        let daemon = try MedtagProcess.serve(spool)
        let expectedDone = ["anidada.zip", "larga.txt", "trampas.tar", "trampas.zip"]
        let all = (Self.refusedInputs.map(\.name) + expectedDone).sorted()
        do {
            try waitUntil("every hostile input is finished", timeout: 120) { spool.finished() == all || !daemon.process.isRunning }
        } catch {
            let missing = Set(all).subtracting(spool.finished())
            throw TestFailure(
                "\(error); not finished: \(missing.sorted()); inbox \(spool.files(in: spool.inbox)), work \(spool.claimedInputs())\n"
                    + String(daemon.log.suffix(4000)))
        }
        #expect(daemon.process.isRunning, "the daemon survived:\n\(daemon.log)")
        print("hostile inputs: \(all.count) finished in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        #expect(spool.finished() == all)

        // Still serving: a good note dropped afterwards is annotated.
        try spool.drop("despues.txt", text: spanishNote)
        try waitUntil("a good input after the hostile ones is done", timeout: 30) { spool.files(in: spool.done).contains("despues.txt") }

        for (name, words) in Self.refusedInputs {
            let report = spool.failed.appendingPathComponent(name + ".error.json")
            guard FileManager.default.fileExists(atPath: report.path) else {
                Issue.record("\(name) is not in failed/ with a report (done: \(spool.files(in: spool.done)))")
                continue
            }
            let reason = try jsonObject(report)["reason"] as? String ?? ""
            #expect(reason.localizedCaseInsensitiveContains(words), "\(name): reason `\(reason)` should say \(words)")
            #expect(!FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent(name).path), "\(name) has no results")
        }
        // Not-regular files are moved, never opened or followed: the link still points at its target.
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: spool.failed.appendingPathComponent("enlace.txt").path))
                == "/etc/shadow")

        // Archive members that try to escape or are not files are refused one by one, listed with the reason.
        for archive in ["trampas.tar", "trampas.zip"] {
            let report = try jsonObject(spool.outbox.appendingPathComponent("\(archive)/medtag-report.json"))
            let refused = report["refused"] as? [[String: String]] ?? []
            let members = report["members"] as? [String: Int] ?? [:]
            #expect(members["annotated"] == 1, "\(archive): only bueno.txt is annotated: \(report)")
            #expect(refused.count == (members["read"] ?? 0) - 1, "\(archive): every other member refused: \(refused)")
            #expect(refused.allSatisfy { !($0["reason"] ?? "").isEmpty })
            #expect(spool.files(in: spool.outbox.appendingPathComponent(archive)).contains("bueno.ann"))
        }
        let tarRefused = (try jsonObject(spool.outbox.appendingPathComponent("trampas.tar/medtag-report.json"))["refused"]
            as? [[String: String]] ?? []).map { $0["reason"] ?? "" }
        for words in ["`..`", "absolute", "symbolic link", "hard link", "device", "hidden"] {
            #expect(tarRefused.contains { $0.contains(words) }, "trampas.tar: a member refused for \(words): \(tarRefused)")
        }
        // Deep nesting is cut at archive_max_depth; no layer is expanded past it.
        let nested = try jsonObject(spool.outbox.appendingPathComponent("anidada.zip/medtag-report.json"))
        let nestedReasons = (nested["refused"] as? [[String: String]] ?? []).map { $0["reason"] ?? "" }
        #expect(!nestedReasons.isEmpty && nestedReasons.allSatisfy { $0.contains("archive_max_depth") || $0.contains("bomb") })
        #expect((nested["documents"] as? [Any] ?? []).isEmpty)

        // Entities are never resolved: the XML inputs that declare them are refused, the reason says
        // what to do, and no file content leaks into the error report.
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8))?.split(separator: "\n").first.map(String.init) ?? "root:x:0:0"
        for name in ["xxe.xml", "risas.xml", "dtd-externo.xml"] {
            let report = try String(contentsOf: spool.failed.appendingPathComponent(name + ".error.json"), encoding: .utf8)
            #expect(report.contains("remove the DOCTYPE"), "\(name): \(report)")
            #expect(!report.contains(passwd), "\(name).error.json holds /etc/passwd")
        }

        // The very long line is annotated whole.
        let long = try String(contentsOf: spool.outbox.appendingPathComponent("larga.txt/larga.ann"), encoding: .utf8)
        #expect(long.split(separator: "\n").count > 1000)

        // Odd names: the error report sits beside the input under the same name; the log stays one record a line.
        #expect(spool.files(in: spool.failed).contains("ma\nlo \"x\" 'y'.txt.error.json"))
        #expect(daemon.log.contains("renamed an input whose name is not valid UTF-8"))
        try waitUntil("every input has its log record", timeout: 10) { spool.logRecords().count >= all.count + 1 }
        let logs = spool.outbox.appendingPathComponent("logs")
        for file in spool.files(in: logs) {
            let text = try String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n")
            #expect(lines.count == all.count + 1, "one line per input")
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        }

        // Nothing was written outside the spool.
        #expect(!FileManager.default.fileExists(atPath: "/tmp/absoluto.txt"))
        let top = try FileManager.default.contentsOfDirectory(atPath: spool.root.path).filter { !$0.hasSuffix(".log") }
        #expect(top.sorted() == ["medtag.conf", "spool"])
        for folder in ["escapado.txt", "escapado2.txt"] {
            #expect(!FileManager.default.fileExists(atPath: spool.root.appendingPathComponent(folder).path))
            #expect(!FileManager.default.fileExists(atPath: spool.spool.appendingPathComponent(folder).path))
        }
        let peak = peakResidentMiB(daemon.process.processIdentifier) ?? 0
        print("hostile inputs: daemon peak RSS \(String(format: "%.0f", peak)) MiB")
        #expect(peak < 1024, "bombs do not blow up memory")
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
    }
}
