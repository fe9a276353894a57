import Foundation
import Testing
import MedtagTestSupport

/// Debian's chromium, which `make test-deps` installs.
private let chromium: URL? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("chromium")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
}()

/// Runs headless chromium on a page; returns its standard output.
private func headless(_ arguments: [String], page: URL, scratch: URL) throws -> String {
    let process = Process()
    process.executableURL = chromium
    // Tests run as root in CI containers, where chromium's sandbox cannot start.
    process.arguments =
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(scratch.path)"]
        + arguments + [page.absoluteString]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("chromium exited with status \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}

/// Decodes a PNG (8-bit RGB or RGBA) with Python's zlib and counts dark (text) pixels and pixels of
/// the two chart colours: `width height dark labelBars methodBars`.
private let pngCounter = """
    import struct, sys, zlib
    data = open(sys.argv[1], "rb").read()
    assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and ctype in (2, 6), "unexpected PNG type"
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, i, dark, labels, methods = bytearray(stride), 0, 0, 0, 0
    for y in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if r < 100 and g < 100 and b < 100: dark += 1
            elif abs(r - 59) < 10 and abs(g - 110) < 10 and abs(b - 168) < 10: labels += 1
            elif abs(r - 76) < 10 and abs(g - 138) < 10 and abs(b - 74) < 10: methods += 1
        prev = line
    print(w, h, dark, labels, methods)
    """

/// Rows of an RFC 4180 table (quoted cells may hold commas, quotes and line breaks).
private func csvRows(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var cell = ""
    var quoted = false
    var iterator = text.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    while let c = pending ?? iterator.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                let next = iterator.next()
                if next == "\"" { cell.unicodeScalars.append("\"") } else { quoted = false; pending = next }
            } else {
                cell.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            row.append(cell); cell = ""
        } else if c == "\n" {
            row.append(cell); rows.append(row); row = []; cell = ""
        } else if c != "\r" && c != "\u{FEFF}" {
            cell.unicodeScalars.append(c)
        }
    }
    if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
    return rows
}

/// `label → count` of one bar chart in the page chromium parsed.
private func chartBars(_ dom: Substring) throws -> [String: Int] {
    let bar = try Regex(#"<text class="label"[^>]*>([^<]*)</text><rect[^>]*>(?:</rect>)?<text class="count"[^>]*>(\d+)</text>"#)
    var bars: [String: Int] = [:]
    for match in dom.matches(of: bar) {
        guard let label = match.output[1].substring, let count = match.output[2].substring else { continue }
        bars[label.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")] = Int(count)
    }
    return bars
}

/// The text of the element with `id` in the page chromium parsed.
private func figure(_ dom: String, _ id: String) throws -> Int? {
    guard let match = dom.firstMatch(of: try Regex(#"id="\#(id)">([\d,]+)<"#)), let text = match.output[1].substring else { return nil }
    return Int(text.replacingOccurrences(of: ",", with: ""))
}

/// The summary page as a person sees it: rendered by a real browser.
@Suite(.serialized, .enabled(if: chromium != nil, "chromium is not installed (`make test-deps` installs it)"))
struct SummaryBrowserTests {
    static let nightlyScript = """
        def add(t, name, data):
            info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        sample = open(sys.argv[2], "rb").read()
        with tarfile.open(out, "w:gz") as t:
            add(t, "urgencias/caso-clinico.txt", sample)
            add(t, "urgencias/alta-1.txt", "Se pautó omeprazol 20 mg y paracetamol 1 g cada 8 horas. Alergia a penicilina.\\n".encode())
            add(t, "urgencias/alta-2.txt", "Tratamiento con enalapril y ácido acetilsalicílico; insulina glargina por la noche.\\n".encode())
            add(t, "urgencias/alta-3.txt", "Tomaba paracetmol y omeprazool. Recibió factor VIII recombinante.\\n".encode())
            add(t, "planta/evolucion.xml", "<doc><p>Mejoría tras metamizol y heparina de bajo peso molecular.</p></doc>".encode())
            add(t, "planta/informe.pdf", b"%PDF-1.4")
            add(t, "planta/latin1.txt", "Paciente con fiebre".encode("latin-1") + b"\\xe1\\n")
        """

    @Test("a nightly archive's summary renders to a non-blank page whose figures match the CSV")
    func summaryRendersAndMatchesTheCSV() throws {
        let spool = try TestSpool()
        let drop = spool.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        try makeArchive(
            drop.appendingPathComponent("noche.tar.gz"), script: Self.nightlyScript,
            arguments: [Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt").path])
        let model = Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-bilstm-crf")
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, "--model", model.path, "--from", drop.path], in: spool)
        #expect(run.status == 0, "\(run.output)")
        let results = spool.outbox.appendingPathComponent("noche.tar.gz")
        let page = results.appendingPathComponent("summary.html")
        #expect(FileManager.default.fileExists(atPath: page.path))
        let scratch = spool.root.appendingPathComponent("chromium")

        // What the browser parsed: the figures, the charts' bars.
        let dom = try headless(["--dump-dom"], page: page, scratch: scratch)
        var labels: [String: Int] = [:]
        for file in spool.files(in: results) where file.hasSuffix(".csv") {
            let rows = csvRows(try String(contentsOf: results.appendingPathComponent(file), encoding: .utf8))
            guard let header = rows.first, let column = header.firstIndex(of: "label") else { continue }
            for row in rows.dropFirst() where row.count == header.count { labels[row[column], default: 0] += 1 }
        }
        let entities = labels.values.reduce(0, +)
        #expect(entities > 10, "the archive's notes hold entities: \(labels)")
        guard let methodsStart = dom.range(of: "<section id=\"normalization\"") else {
            Issue.record("no normalization section in \(dom)")
            return
        }
        #expect(try chartBars(dom[..<methodsStart.lowerBound]) == labels, "entities per label as in the CSV")
        #expect(try chartBars(dom[methodsStart.lowerBound...]).values.reduce(0, +) == entities, "every entity in the normalization chart")
        #expect(try figure(dom, "entities") == entities)
        let annotated = spool.files(in: results).filter { $0.hasSuffix(".ann") }.count
        #expect(annotated == 5)
        #expect(try figure(dom, "documents-annotated") == annotated)
        #expect(try figure(dom, "documents-refused") == 2)
        #expect(try figure(dom, "documents-read") == 7)
        #expect(dom.contains("planta/informe.pdf") && dom.contains("planta/latin1.txt"), "each refused member is listed")
        #expect(dom.contains("not valid UTF-8"), "with its reason")
        #expect(dom.contains("href=\"./urgencias/alta-1.ann\""), "links to the per-document files")

        // What a person sees: text and both charts drawn.
        let png = spool.root.appendingPathComponent("summary.png")
        _ = try headless(["--window-size=1000,1300", "--screenshot=\(png.path)"], page: page, scratch: scratch)
        let counter = Process()
        counter.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        counter.arguments = ["python3", "-c", pngCounter, png.path]
        let output = Pipe()
        counter.standardOutput = output
        try counter.run()
        let counts = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        counter.waitUntilExit()
        #expect(counts.count == 5 && counts[0] == 1000 && counts[1] == 1300, "\(counts)")
        if counts.count == 5 {
            print("summary screenshot: \(counts[2]) dark pixels, \(counts[3]) label-bar pixels, \(counts[4]) method-bar pixels")
            #expect(counts[2] > 5_000, "text is drawn")
            #expect(counts[3] > 1_000 && counts[4] > 1_000, "both bar charts are drawn")
        }
        // The picture in the README is made here: MEDTAG_SUMMARY_SCREENSHOT=path keeps it.
        if let keep = ProcessInfo.processInfo.environment["MEDTAG_SUMMARY_SCREENSHOT"], !keep.isEmpty {
            let target = URL(fileURLWithPath: keep, relativeTo: Paths.packageRoot)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: png, to: target)
        }
    }

    @Test("markup in a note's text and file name yields no element or attribute in the browser")
    func hostileNamesAndTextStayText() throws {
        let spool = try TestSpool()
        let drop = spool.root.appendingPathComponent("nightly")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        try makeArchive(
            drop.appendingPathComponent("hostil.tar.gz"),
            script: """
                def add(t, name, data):
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                with tarfile.open(out, "w:gz") as t:
                    add(t, "notas/\\"><img src=x onerror=alert(1)>.txt", "Se pautó <script>alert(2)</script> paracetamol y \\"><img src=x onerror=alert(3)> omeprazol.\\n".encode())
                    add(t, "notas/<script>alert(4).pdf", b"x")
                    add(t, "notas/<b onmouseover=alert(5)>omeprazol</b>.txt", "omeprazol<script>alert(6)</script>omeprazol\\n".encode())
                """)
        let run = try runMedtag(["ingest", "--config", spool.configFile.path, "--from", drop.path], in: spool)
        #expect(run.status == 0, "\(run.output)")
        let page = spool.outbox.appendingPathComponent("hostil.tar.gz/summary.html")
        let dom = try headless(["--dump-dom"], page: page, scratch: spool.root.appendingPathComponent("chromium"))
        let tags = Set(dom.matches(of: try Regex(#"<([A-Za-z][A-Za-z0-9-]*)"#)).compactMap { $0.output[1].substring.map { $0.lowercased() } })
        let allowed: Set = [
            "html", "head", "meta", "title", "style", "body", "h1", "h2", "section", "table", "tbody", "tr", "th", "td", "ul",
            "li", "p", "svg", "g", "text", "rect", "a", "br", "small", "footer",
        ]
        #expect(tags.isSubset(of: allowed), "elements from the input: \(tags.subtracting(allowed))")
        // Attributes, inside the start tags only (the serialized text has no raw `<`).
        let startTags = dom.matches(of: try Regex(#"<[A-Za-z][^>]*>"#)).map { String(dom[$0.range]) }
        let attribute = try Regex(#"\s([A-Za-z-]+)="#)
        let attributes = Set(startTags.flatMap { $0.matches(of: attribute).compactMap { $0.output[1].substring.map { $0.lowercased() } } })
        #expect(attributes.contains("href") && attributes.contains("class"), "\(attributes)")
        #expect(!attributes.contains { $0.hasPrefix("on") } && !attributes.contains("src"), "\(attributes)")
        // The payloads are shown, as text.
        #expect(dom.contains("\"&gt;&lt;img src=x onerror=alert(1)&gt;"), "the hostile file name is listed as text")
        #expect(dom.contains("&lt;script&gt;alert(4)"), "and the refused member too")
    }
}
