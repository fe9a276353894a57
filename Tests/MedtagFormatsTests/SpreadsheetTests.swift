import Foundation
import MedtagText
import Testing

@testable import MedtagFormats

/// Opens a medtag CSV in LibreOffice Calc, as a spreadsheet user would, and reads the cells back.
struct SpreadsheetTests {
    static let soffice = ["/usr/bin/soffice", "/usr/bin/libreoffice"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: soffice != nil, "LibreOffice is not installed (make test installs libreoffice-calc-nogui)"))
    func libreOfficeReadsEveryCellIntactAndNoFormula() throws {
        let text = "Ácido \"fólico\", 5 mg\n=1+1 +5-3 -2 @SUM(A1)"
        var document = Document(id: "doc,\"1\"", text: text)
        Tokenizer().process(&document)
        let cells: [(Int, Int, String)] = [(0, 20, "=HYPERLINK(\"x\")"), (21, 25, "+1"), (26, 30, "@x"), (31, 33, "-3"), (34, 42, "1")]
        document.entities = cells.enumerated().map { k, c in
            Entity(id: "T\(k + 1)", label: "NORMALIZABLES", start: c.0, end: c.1, text: document.text(from: c.0, to: c.1), code: c.2, term: "línea 1\nlínea 2, \"b\"")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("out.csv")
        try Data(CSVTable.render([document]).utf8).write(to: csv)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.soffice!)
        process.arguments = [
            "--headless", "-env:UserInstallation=file://\(dir.path)/profile", "--infilter=CSV:44,34,76,1",
            "--convert-to", "xlsx", "--outdir", dir.path, csv.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        unzip.arguments = ["-o", "-q", dir.appendingPathComponent("out.xlsx").path, "-d", dir.appendingPathComponent("x").path]
        try unzip.run()
        unzip.waitUntilExit()
        let sheet = try String(contentsOf: dir.appendingPathComponent("x/xl/worksheets/sheet1.xml"), encoding: .utf8)
        let shared = try String(contentsOf: dir.appendingPathComponent("x/xl/sharedStrings.xml"), encoding: .utf8)
        #expect(!sheet.contains("<f>"), "a cell became a formula")
        let strings = xmlStrings(shared)
        for expected in [
            "document", "doc,\"1\"", "Ácido \"fólico\", 5 mg", "'=HYPERLINK(\"x\")", "'+1", "'@x", "'-3", "línea 1\nlínea 2, \"b\"",
            "'=1+1", "'+5-3", "'-2", "'@SUM(A1)",
        ] {
            #expect(strings.contains(expected), "missing cell \(expected)")
        }
        #expect(!strings.contains { $0.hasPrefix("\u{FEFF}") })
    }

    /// The `<t>` texts of sharedStrings.xml, unescaped.
    func xmlStrings(_ xml: String) -> [String] {
        xml.components(separatedBy: "<t").dropFirst().compactMap { part -> String? in
            guard let open = part.firstIndex(of: ">"), let close = part.range(of: "</t>") else { return nil }
            return String(part[part.index(after: open)..<close.lowerBound])
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&apos;", with: "'")
                .replacingOccurrences(of: "&#10;", with: "\n").replacingOccurrences(of: "&amp;", with: "&")
        }
    }
}
