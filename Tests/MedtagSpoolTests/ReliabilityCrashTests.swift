import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// kill -9 at random moments, restart, repeat: nothing lost, nothing doubled, results identical to a
/// clean run, no half-written result ever visible.
@Suite("reliability: kill -9 crash loop", .serialized)
struct ReliabilityCrashTests {
    @Test("8 kills on 40 mixed inputs: every input ends once, results byte-identical to a clean run")
    func crashLoop() throws {
        try runCrashLoop(inputs: 40, kills: 8, maxDelay: 0.8)
    }

    @Test("60 kills on 300 mixed inputs (make stress)", .enabled(if: stressEnabled, "long; run by `make stress` (MEDTAG_STRESS=1)"))
    func crashLoopStress() throws {
        try runCrashLoop(inputs: 300, kills: 60, maxDelay: 1.5)
    }

    /// Writes `count` inputs under `folder`: notes, XML, tar.gz and zip archives, a sub-folder, large
    /// notes (so kills land mid-annotation) and bad inputs (invalid UTF-8, empty, truncated gzip,
    /// unsupported type). Deterministic: the same count gives the same bytes.
    static func makeInputs(_ folder: URL, count: Int) throws -> [String] {
        try python(
            """
            n = int(sys.argv[2])
            note = "Varón de 58 años en tratamiento con enalapril 20 mg/día y paracetamol 1 g cada 8 horas.\\nLa inmunohistoquímica fue positiva para S-100 y vimentina.\\n"
            def put(name, data):
                path = os.path.join(out, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "wb").write(data)
            def tgz(members):
                buf = io.BytesIO()
                with tarfile.open(fileobj=buf, mode="w:gz") as t:
                    for name, data in members:
                        info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 0
                        t.addfile(info, io.BytesIO(data))
                return buf.getvalue()
            def zipped(members):
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                    for name, data in members:
                        z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
                return buf.getvalue()
            for i in range(n):
                k = i % 10
                text = (note + "Nota %d con omeprazol.\\n" % i).encode()
                if k in (0, 1, 2, 9): put("n-%04d.txt" % i, text)
                elif k == 3: put("ward%d/n-%04d.txt" % (i % 3, i), text)
                elif k == 4: put("x-%04d.xml" % i, ("<doc><dc:title>Nota %d</dc:title><dc:description>Se pautó insulina glargina e ibuprofeno.</dc:description></doc>" % i).encode())
                elif k == 5: put("a-%04d.tar.gz" % i, tgz([("notas/uno.txt", text), ("notas/dos.xml", b"<doc><title>Paracetamol</title></doc>"), ("../fuera.txt", b"x")]))
                elif k == 6: put("z-%04d.zip" % i, zipped([("a/tres.txt", text), ("cuatro.txt", b"Sin medicaci\\xc3\\xb3n.\\n")]))
                elif k == 7: put("big-%04d.txt" % i, text * 1500)
                else:
                    bad = (i // 10) % 4
                    if bad == 0: put("bad-%04d.txt" % i, b"Paracetamol \\xff\\xfe roto")
                    elif bad == 1: put("empty-%04d.txt" % i, b"")
                    elif bad == 2:
                        whole = tgz([("uno.txt", text * 40)])
                        put("cut-%04d.tar.gz" % i, whole[: len(whole) * 2 // 3])
                    else: put("odd-%04d.bin" % i, b"\\x7fELF\\x02\\x01\\x01" + bytes(range(256)))
            """, folder, ["\(count)"])
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var names: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                names.append(relative)
            }
        }
        return names.sorted()
    }

    func runCrashLoop(inputs count: Int, kills: Int, maxDelay: Double) throws {
        let seed = testSeed()
        print("crash loop: \(count) inputs, \(kills) kills, seed \(seed) (replay with MEDTAG_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        // Kills here are the test's, not the input's fault: no input may be given up on.
        // Small pieces here, whole documents in the clean run: the big notes are written in about 15
        // pieces, kills land between them, and the results must still equal the clean run's.
        let spool = try TestSpool(config: "max_attempts = 1000\npiece_size = 16K", workers: 2)
        let source = spool.root.appendingPathComponent("inputs")
        let names = try Self.makeInputs(source, count: count)
        #expect(names.count == count)
        func drop(_ name: String, into target: TestSpool) throws {
            try target.drop(name, Array(try Data(contentsOf: source.appendingPathComponent(name))))
        }

        // The reference: one clean run over the same inputs.
        let clean = try TestSpool(workers: 2)
        for name in names { try drop(name, into: clean) }
        let started = Date()
        let reference = try MedtagProcess.serve(clean)
        try waitUntil("the clean run finishes", timeout: 60 + Double(count)) { clean.finished() == names }
        reference.signal(SIGTERM)
        #expect(try reference.waitForExit() == 0)
        let cleanSeconds = Date().timeIntervalSince(started)
        let expected = clean.outboxResults(names)
        let expectedFailed = clean.files(in: clean.failed).filter { !$0.hasSuffix(".error.json") }
        #expect(!expected.isEmpty && !expectedFailed.isEmpty, "the mix has both good and bad inputs")

        // Half the inputs wait before the first start; the rest arrive between kills.
        var dropped = Array(names.prefix(count / 2))
        for name in dropped { try drop(name, into: spool) }
        var later = Array(names.dropFirst(count / 2))
        let batch = max(1, (later.count + kills - 1) / kills)
        var completeSnapshots = 0
        var interrupted = 0

        for cycle in 0..<kills {
            let daemon = try MedtagProcess.serveNow(spool)
            let delay = 0.05 + Double(random.next() % 1000) / 1000 * maxDelay
            pause(delay)
            for name in later.prefix(batch) { try drop(name, into: spool) }
            dropped += later.prefix(batch)
            later.removeFirst(min(batch, later.count))
            pause(Double(random.next() % 300) / 1000)
            #expect(!daemon.diedOfSignal, "cycle \(cycle): the daemon crashed by itself:\n\(daemon.log)")
            daemon.signal(SIGKILL)
            _ = try daemon.waitForExit()

            if !spool.claimedInputs().isEmpty { interrupted += 1 }
            // Nothing lost, nothing doubled: each dropped input is in exactly one place.
            let places =
                spool.files(in: spool.inbox) + spool.claimedInputs() + spool.files(in: spool.done)
                + spool.files(in: spool.failed).filter { !$0.hasSuffix(".error.json") }
            #expect(places.sorted() == dropped.sorted(), "cycle \(cycle): inputs lost or doubled")
            // Whatever is published is complete and identical to the clean run's result.
            for (input, contents) in spool.outboxResults(dropped) {
                #expect(contents == expected[input], "cycle \(cycle): \(input) is published incomplete or different")
                completeSnapshots += 1
            }
        }
        for name in later { try drop(name, into: spool) }

        // The last run finishes everything and stops cleanly.
        let final = try MedtagProcess.serve(spool)
        try waitUntil("every input is finished after the kills", timeout: 60 + Double(count)) {
            spool.finished() == names && spool.files(in: spool.inbox).isEmpty && spool.claimedInputs().isEmpty
        }
        let peak = peakResidentMiB(final.process.processIdentifier) ?? 0
        final.signal(SIGTERM)
        #expect(try final.waitForExit() == 0)

        #expect(spool.finished() == names, "every input in done/ or failed/ exactly once")
        #expect(Set(spool.files(in: spool.done)).isDisjoint(with: spool.files(in: spool.failed)))
        #expect(spool.files(in: spool.failed).filter { !$0.hasSuffix(".error.json") } == expectedFailed)
        for name in expectedFailed {
            let reason = try jsonObject(spool.failed.appendingPathComponent(name + ".error.json"))["reason"] as? String
            let cleanReason = try jsonObject(clean.failed.appendingPathComponent(name + ".error.json"))["reason"] as? String
            #expect(reason != nil && reason == cleanReason, "\(name): same reason as the clean run")
        }
        let produced = spool.outboxResults(names)
        #expect(produced.keys.sorted() == expected.keys.sorted())
        for (input, contents) in expected {
            #expect(produced[input] == contents, "\(input) differs from the clean run")
        }
        // Nothing else in the outbox: no staging names, no half-renamed folders.
        let resultFiles = Set(produced.flatMap { input, contents in contents.keys.map { "\(input)/\($0)" } })
        for entry in spool.allEntries(in: spool.outbox) where !entry.hasPrefix("logs") {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: spool.outbox.appendingPathComponent(entry).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { #expect(resultFiles.contains(entry), "unexpected file in the outbox: \(entry)") }
        }
        #expect(spool.allEntries(in: spool.tmp).isEmpty, "staging leftovers: \(spool.allEntries(in: spool.tmp))")
        #expect(spool.allEntries(in: spool.work).isEmpty, "work leftovers: \(spool.allEntries(in: spool.work))")
        // The daily log never holds a torn line, whatever moment the kills hit.
        let logs = spool.outbox.appendingPathComponent("logs")
        for file in spool.files(in: logs) {
            let text = try String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "torn log line: \(line)")
            }
        }
        if stressEnabled { #expect(interrupted > 0, "some kills hit inputs in progress") }
        print(
            "crash loop: \(kills) kills (\(interrupted) with inputs in progress), \(completeSnapshots) published results checked between kills, all complete;"
                + " clean run \(String(format: "%.1f", cleanSeconds)) s; final daemon peak RSS \(String(format: "%.0f", peak)) MiB")
    }
}
