import Foundation
import MedtagStorage
import Testing
import MedtagTestSupport

/// The one atomic writer: whole files or nothing, with the permissions asked for, errors naming the file.
@Suite struct AtomicFileTests {
    @Test func writesCopiesAndBatchesLeaveNoTemporary() throws {
        let root = try temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(at: root) }
        let target = root.appendingPathComponent("a/b/nota.txt").path
        try AtomicFile.write(Array("uno".utf8), toPath: target, mode: 0o640)
        try AtomicFile.write(Array("dos".utf8), toPath: target, mode: 0o640)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "dos")
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        #expect(mode == 0o640)

        let copy = root.appendingPathComponent("copia.txt").path
        try AtomicFile.copy(target, toPath: copy)
        #expect(try String(contentsOfFile: copy, encoding: .utf8) == "dos")

        let batch = AtomicFile.Batch()
        for i in 0..<(AtomicFile.filesFlushedOneByOne + 2) {
            let writer = try AtomicFile.Writer(path: root.appendingPathComponent("lote/n\(i).txt").path)
            try writer.write(Array("n\(i)".utf8))
            #expect(batch.add(writer).count == 64, "a batch gives each file's SHA-256")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("lote/n0.txt").path), "nothing appears before the commit")
        try batch.commit()
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("lote").path)
        #expect(names.count == AtomicFile.filesFlushedOneByOne + 2 && !names.contains { $0.hasPrefix(".") })

        // A writer dropped before its commit leaves nothing behind.
        do {
            let dropped = try AtomicFile.Writer(path: root.appendingPathComponent("a/b/nada.txt").path)
            try dropped.write(Array("x".utf8))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("a/b").path) == ["nota.txt"])
    }

    @Test func errorsNameTheFileAndTheReason() throws {
        let root = try temporaryDirectory("atomic-error")
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("fichero")
        try Data("x".utf8).write(to: file)
        #expect {
            try AtomicFile.write(Array("y".utf8), toPath: file.appendingPathComponent("dentro.txt").path)
        } throws: { error in
            "\(error)".hasPrefix(file.path) && "\(error)".contains("cannot create the folder")
        }
        #expect {
            try AtomicFile.copy(root.appendingPathComponent("no-existe").path, toPath: root.appendingPathComponent("c").path)
        } throws: { error in
            (error as? AtomicFileError)?.code == ENOENT && "\(error)".contains("no-existe: cannot read")
        }
    }

    /// Names of one character, non-ASCII names and names up to the 255-byte limit are written in
    /// place, alone and in a batch; two long names that start alike never share a temporary.
    @Test func oddAndLongNamesAreWrittenInPlace() throws {
        let root = try temporaryDirectory("atomic-names")
        defer { try? FileManager.default.removeItem(at: root) }
        let longest = String(repeating: "ñ", count: 125) + ".ann"  // 254 bytes
        let alike = [String(repeating: "a", count: 250) + ".ann", String(repeating: "a", count: 250) + ".txt"]
        for name in ["n", "é", "m/é", ".oculta", "a.b.c", "con espacio", longest] {
            let path = root.appendingPathComponent("uno/\(name)").path
            try AtomicFile.write(Array(name.utf8), toPath: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == name)
        }
        let batch = AtomicFile.Batch()
        for name in alike + [longest] {
            let writer = try AtomicFile.Writer(path: root.appendingPathComponent("lote/\(name)").path)
            try writer.write(Array(name.utf8))
            _ = batch.add(writer)
        }
        try batch.commit()
        for name in alike + [longest] {
            #expect(try String(contentsOfFile: root.appendingPathComponent("lote/\(name)").path, encoding: .utf8) == name)
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "\(left)")
    }
}
