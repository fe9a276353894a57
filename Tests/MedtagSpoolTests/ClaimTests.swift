import Foundation
import Logging
import Testing

@testable import MedtagSpool
import MedtagTestSupport

/// The claim itself, without a daemon around it: an input listed by a scan (or an event) and deleted
/// before the claim's rename is skipped, and leaves no trace in the spool.
@Suite("claiming inputs")
struct ClaimTests {
    /// A spool with its folders made, and a locked work area in it.
    final class Fixture {
        let root: URL
        let layout: SpoolLayout
        let area: WorkArea

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-claim-test-\(UUID().uuidString)")
            layout = SpoolLayout(root: .init(root.appendingPathComponent("spool").path))
            try layout.create()
            area = try WorkArea.acquire(layout: layout, instance: "prueba")
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        var inbox: URL { URL(fileURLWithPath: layout.inbox.string) }

        func put(_ relativePath: String) throws {
            let url = inbox.appendingPathComponent(relativePath)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(spanishNote.utf8).write(to: url)
        }

        /// Everything under a spool folder, files and folders, relative to it (dot-names included).
        func entries(_ folder: String) -> [String] {
            let url = root.appendingPathComponent("spool/\(folder)")
            return ((FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String]) ?? []).sorted()
        }
    }

    @Test("a work folder left half-built by a killed daemon is removed at once when its lock is free; one being built is kept")
    func halfBuiltWorkFolders() throws {
        let spool = try Fixture()
        let work = URL(fileURLWithPath: spool.layout.work.string)
        // Killed after locking its new folder but before renaming it: the lock file is there, free.
        let dead = work.appendingPathComponent(".muerto.new")
        try FileManager.default.createDirectory(at: dead, withIntermediateDirectories: true)
        try Data().write(to: dead.appendingPathComponent(".lock"))
        // Being built right now: its lock is held.
        let alive = work.appendingPathComponent(".vivo.new")
        try FileManager.default.createDirectory(at: alive, withIntermediateDirectories: true)
        let lock = open(alive.appendingPathComponent(".lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        #expect(lock >= 0)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        // Just created, no lock file yet (or killed between mkdir and open): kept for a minute.
        let fresh = work.appendingPathComponent(".reciente.new")
        try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)

        _ = spool.area.adoptAbandoned(logger: Logger(label: "test"))
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(FileManager.default.fileExists(atPath: alive.appendingPathComponent(".lock").path))
        #expect(FileManager.default.fileExists(atPath: fresh.path))
        // A daemon of the same instance name as the removed one starts normally.
        let restarted = try WorkArea.acquire(layout: spool.layout, instance: "muerto")
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("muerto/.lock").path))
        _ = restarted
    }

    @Test("an input listed, then deleted before the claim: vanished, nothing in failed/, no folder left in work/")
    func deletedAfterListing() throws {
        let spool = try Fixture()
        let names = ["nota.txt", "sala3/cama12/nota.txt", "renombrada.txt", "sala4/renombrada.txt"]
        for name in names { try spool.put(name) }
        // Listed the way the daemon lists the inbox, then deleted by the user before the claim.
        let listed = spool.layout.scanInbox().map(\.relativePath).sorted()
        #expect(listed == names.sorted())
        for name in names { try FileManager.default.removeItem(at: spool.inbox.appendingPathComponent(name)) }
        // A whole folder gone too: the claim meets ENOENT on a parent, not only on the file.
        try FileManager.default.removeItem(at: spool.inbox.appendingPathComponent("sala3"))

        for path in listed {
            // Written in place (`ready` false: looked at before the claim) or renamed in (claimed at once).
            let ready = path.contains("renombrada")
            let attempt = WorkLoop.claim((path, ready), area: spool.area, settleTime: 0)
            #expect(attempt == .vanished, "\(path) (ready \(ready))")
            // The rename itself meets the missing file too, whichever way the path was queued.
            #expect(try spool.area.claim(path) == .vanished, "\(path)")
        }
        #expect(spool.entries("failed").isEmpty, "a vanished input is not a failure")
        #expect(spool.entries("done").isEmpty && spool.entries("outbox").isEmpty)
        #expect(spool.entries("work/prueba") == [".lock"], "no folder is left behind for a vanished input")
    }

    @Test("an input still there is claimed into the work folder; a fresh one written in place settles first")
    func presentAndSettling() throws {
        let spool = try Fixture()
        try spool.put("sala3/nota.txt")
        try spool.put("recien.txt")
        #expect(WorkLoop.claim(("sala3/nota.txt", false), area: spool.area, settleTime: 0) == .claimed("sala3/nota.txt"))
        #expect(spool.entries("work/prueba").contains("sala3/nota.txt"))
        #expect(spool.entries("inbox") == ["recien.txt", "sala3"])
        guard case .settling(let until) = WorkLoop.claim(("recien.txt", false), area: spool.area, settleTime: 60) else {
            Issue.record("a file written just now waits for settle_time")
            return
        }
        #expect(until > Date().timeIntervalSince1970 + 50)
        #expect(spool.entries("inbox").contains("recien.txt"), "a settling file stays in the inbox")
        // Renamed in: complete by convention, claimed at once whatever its time.
        #expect(WorkLoop.claim(("recien.txt", true), area: spool.area, settleTime: 60) == .claimed("recien.txt"))
    }

    @Test("a name that is not UTF-8 is repaired without ever replacing a file already under the new name")
    func repairedNameNeverReplaces() throws {
        let spool = try Fixture()
        try spool.put("espa_ol.txt")
        try Data("ya estaba\n".utf8).write(to: spool.inbox.appendingPathComponent("2-espa_ol.txt"))
        // Latin-1 "ñ" (0xF1): not UTF-8.
        let raw: [UInt8] = Array(spool.inbox.path.utf8) + Array("/espa".utf8) + [0xF1] + Array("ol.txt".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        #expect(fd >= 0)
        _ = write(fd, "latin1\n", 7)
        close(fd)
        let found = spool.layout.scanInbox()
        #expect(found.map(\.relativePath).sorted() == ["2-espa_ol.txt", "3-espa_ol.txt", "espa_ol.txt"])
        #expect(found.first { $0.relativePath == "3-espa_ol.txt" }?.renamedFrom != nil)
        func content(_ name: String) -> String? { try? String(contentsOf: spool.inbox.appendingPathComponent(name), encoding: .utf8) }
        #expect(content("espa_ol.txt") == spanishNote && content("2-espa_ol.txt") == "ya estaba\n" && content("3-espa_ol.txt") == "latin1\n")
    }

    @Test("a name dropped again is claimed under a numbered name: nothing in work/, outbox/, done/ or failed/ is replaced")
    func repeatedNameIsNumbered() throws {
        let spool = try Fixture()
        func write(_ relativePath: String, _ text: String) throws {
            let url = spool.root.appendingPathComponent("spool/\(relativePath)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        func read(_ relativePath: String) -> String? {
            try? String(contentsOf: spool.root.appendingPathComponent("spool/\(relativePath)"), encoding: .utf8)
        }
        // An earlier drop still claimed (waiting for a retry), one in done/ with its results, one in failed/.
        try write("inbox/nota.txt", "primera\n")
        #expect(try spool.area.claim("nota.txt") == .claimed(as: "nota.txt"))
        try write("inbox/nota.txt", "segunda\n")
        #expect(try spool.area.claim("nota.txt") == .claimed(as: "nota~2.txt"))
        try write("done/lote.tar.gz", "x")
        try write("outbox/lote~2.tar.gz/medtag-report.json", "{}")
        try write("inbox/lote.tar.gz", "nueva\n")
        #expect(try spool.area.claim("lote.tar.gz") == .claimed(as: "lote~3.tar.gz"))
        try write("failed/sala3/informe.xml", "x")
        try write("inbox/sala3/informe.xml", "nueva\n")
        #expect(try spool.area.claim("sala3/informe.xml") == .claimed(as: "sala3/informe~2.xml"))
        #expect(read("work/prueba/nota.txt") == "primera\n" && read("work/prueba/nota~2.txt") == "segunda\n")
        #expect(read("work/prueba/lote~3.tar.gz") == "nueva\n" && read("done/lote.tar.gz") == "x")
        #expect(read("work/prueba/sala3/informe~2.xml") == "nueva\n" && read("failed/sala3/informe.xml") == "x")
        // Names without an input extension, and the first drop keeps its name.
        #expect(WorkArea.numbered("sin-extension", 2) == "sin-extension~2")
        #expect(WorkArea.numbered("a/b.c.txt", 3) == "a/b.c~3.txt")
        #expect(WorkArea.numbered("x.zip", 1) == "x.zip")
    }

    @Test("medtag status shows how far each input in work is, as its daemon records it")
    func statusShowsProgress() throws {
        let spool = try Fixture()
        try spool.put("lote.tar.gz")
        #expect(try spool.area.claim("lote.tar.gz") == .claimed(as: "lote.tar.gz"))
        let claimed = spool.area.folder.appending("lote.tar.gz")
        Sys.setProgress(claimed, "120 5000 10000")
        try #require(Sys.progress(claimed) != nil, "this file system keeps no extended attributes")
        let text = SpoolStatus.gather(root: spool.layout.root).render(root: spool.layout.root)
        #expect(text.contains("  lote.tar.gz (prueba): 120 documents done, 50% read (5000 of 10000 bytes)\n"), "\(text)")
        // The record goes when the attempt ends.
        Sys.clearAttempts(claimed)
        #expect(!SpoolStatus.gather(root: spool.layout.root).render(root: spool.layout.root).contains("% read"))
    }
}
