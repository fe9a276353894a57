import Foundation
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagTagging
import MedtagText
import Testing
import MedtagTestSupport

/// Long documents are annotated piece by piece: the files must be those of the whole document.
@Suite("annotation in pieces")
struct PieceAnnotationTests {
    static let pipeline = SharedFixture("the shipped model") {
        try Pipeline.load(
            modelDirectory: Paths.packageRoot.appendingPathComponent("Models/es-pharmaconer-bilstm-crf"),
            lexicon: Paths.packageRoot.appendingPathComponent("Models/lexicon"))
    }

    static var scheme: TagScheme {
        get throws { try pipeline().manifest.tagScheme }
    }

    static let sample: String = {
        (try? String(contentsOf: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), encoding: .utf8)) ?? ""
    }()

    /// Every file of the whole document rendered at once, by name.
    func wholeFiles(_ text: String, formats: [OutputFormat] = OutputFormat.allCases) throws -> [String: [UInt8]] {
        let document = try Self.pipeline().annotate(id: "nota", text: text)
        let renderer = OutputRenderer(conllScheme: try Self.scheme)
        return Dictionary(uniqueKeysWithValues: renderer.render(document, baseName: "nota", formats: formats).map { ($0.fileName, $0.bytes) })
    }

    /// The same files written piece by piece, and the pieces' cuts.
    func pieceFiles(_ text: String, maximumBytes: Int) throws -> (files: [String: [UInt8]], cuts: [TextChunker.Cut]) {
        var renderer = PieceRenderer(documentID: "nota", baseName: "nota", formats: OutputFormat.allCases, conllScheme: try Self.scheme)
        var files: [String: [UInt8]] = [:]
        for file in renderer.header() { files[file.fileName] = file.bytes }
        var cuts: [TextChunker.Cut] = []
        var bytes = Array(text.utf8)
        let chunker = TextChunker(maximumBytes: maximumBytes)
        while let piece = bytes.withUnsafeBufferPointer({ chunker.nextPiece(in: $0, isComplete: true) }) {
            cuts.append(piece.cut)
            let pieceText = String(decoding: bytes[..<piece.length], as: UTF8.self)
            bytes.removeFirst(piece.length)
            let document = try Self.pipeline().annotate(id: "nota", text: pieceText)
            for file in renderer.append(document) { files[file.fileName, default: []] += file.bytes }
        }
        return (files, cuts)
    }

    @Test func piecesCutAtLineEndsGiveTheFilesOfTheWholeDocument() throws {
        // Ten copies of the note with blank lines and a CRLF line between them: several pieces.
        var text = ""
        for n in 1...10 { text += Self.sample + (n % 3 == 0 ? "\r\n" : "\n") + "Control número \(n): sin cambios.\n\n" }
        let whole = try wholeFiles(text)
        let (pieces, cuts) = try pieceFiles(text, maximumBytes: 700)
        #expect(cuts.count > 6, "the text is cut into several pieces (\(cuts))")
        #expect(cuts.dropLast().allSatisfy { $0 == .line } && cuts.last == .end)
        #expect(Set(pieces.keys) == Set(whole.keys))
        for (name, bytes) in whole {
            #expect(pieces[name] == bytes, "\(name) differs when written piece by piece")
        }
        let ann = String(decoding: whole["nota.ann"] ?? [], as: UTF8.self)
        #expect(ann.split(separator: "\n").filter { $0.hasPrefix("T") }.count >= 50, "the model finds entities in every copy")
        #expect(pieces["nota.txt"] == Array(text.utf8))
    }

    @Test func oldMacLineEndsAreCutLikeLineFeeds() throws {
        // Carriage returns alone end lines (and sentences) too: cut there, the files are the same.
        let text = (1...10).map { "\(Self.sample)Control \($0).\n\n" }.joined().replacingOccurrences(of: "\n", with: "\r")
        let (pieces, cuts) = try pieceFiles(text, maximumBytes: 700)
        #expect(cuts.count > 6 && cuts.dropLast().allSatisfy { $0 == .line })
        #expect(pieces == (try wholeFiles(text)))
    }

    @Test func aLineLongerThanAPieceIsCutAtSpacesWithExactOffsets() throws {
        // One line, no line end: pieces are cut after spaces; every offset still points at its text.
        let text = String(repeating: Self.sample.replacingOccurrences(of: "\n", with: " "), count: 4)
        let (files, cuts) = try pieceFiles(text, maximumBytes: 300)
        #expect(cuts.contains(.space))
        #expect(!cuts.contains(.line))
        let scalars = Array(text.unicodeScalars)
        func source(_ start: Int, _ end: Int) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<end])
            return String(view)
        }
        let entities = try BRAT.parse(String(decoding: files["nota.ann"] ?? [], as: UTF8.self))
        #expect(entities.count >= 20)
        #expect(Set(entities.map(\.id)).count == entities.count, "entity ids go on across pieces")
        for entity in entities { #expect(source(entity.start, entity.end) == entity.text, "\(entity.id)") }
        let rows = try CoNLL.parse(String(decoding: files["nota.conll"] ?? [], as: UTF8.self))
        for row in rows.flatMap({ $0.sentences.joined() }) {
            #expect(source(row.start ?? 0, row.end ?? 0) == row.token)
        }
        #expect(files["nota.txt"] == Array(text.utf8))
    }

    @Test func chunkerCutsAtLineEndsSpacesAndCharacters() {
        func pieces(_ text: String, _ maximum: Int) -> [String] {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { TextChunker(maximumBytes: maximum).pieces(of: $0) }.map {
                String(decoding: bytes[$0], as: UTF8.self)
            }
        }
        #expect(pieces("uno\ndos\ntres\n", 8) == ["uno\ndos\n", "tres\n"])
        #expect(pieces("uno\ndos\ntres\n", 100) == ["uno\ndos\ntres\n"])
        #expect(pieces("uno\rdos\rtres\r", 8) == ["uno\rdos\r", "tres\r"], "old Mac line ends")
        #expect(pieces("uno dos tres cuatro", 9) == ["uno dos ", "tres ", "cuatro"])
        // No space: cut between characters, never inside one (ñ and é are two bytes each).
        let cut = pieces("ññññé", 5)
        #expect(cut.joined() == "ññññé")
        #expect(cut.allSatisfy { $0.utf8.count <= 5 && !$0.isEmpty })
        #expect(cut == ["ññ", "ññ", "é"])
        // A buffer being filled from a file: a piece that fits is only given once the file is read.
        let partial = Array("uno\ndos".utf8)
        partial.withUnsafeBufferPointer { buffer in
            #expect(TextChunker(maximumBytes: 100).nextPiece(in: buffer, isComplete: false) == nil)
            #expect(TextChunker(maximumBytes: 100).nextPiece(in: buffer, isComplete: true)?.length == 7)
            #expect(TextChunker(maximumBytes: 5).nextPiece(in: buffer, isComplete: false)?.length == 4)
        }
    }

    @Test func decodingInPiecesReportsOffsetsInTheWholeFile() {
        let bytes = Array("\u{FEFF}línea uno\nlínea dos\n".utf8) + [0xFF] + Array(" tres\n".utf8)
        var whole: InputError?
        do throws(InputError) { _ = try TextInput.decode(bytes) } catch { whole = error }
        var decoder = TextInput.Decoder()
        var piecewise: InputError?
        var decoded = ""
        bytes.withUnsafeBufferPointer { buffer in
            for range in TextChunker(maximumBytes: 12).pieces(of: buffer) {
                do throws(InputError) { decoded += try decoder.decode(UnsafeBufferPointer(rebasing: buffer[range])) } catch {
                    piecewise = error
                    break
                }
            }
        }
        #expect(whole?.code == "encoding")
        #expect(piecewise == whole, "the same error and offset (\(whole?.reason ?? ""))")
        #expect(whole?.reason.contains("offset \(bytes.firstIndex(of: 0xFF)!)") == true)
        #expect(decoded == "línea uno\nlínea dos\n", "the byte order mark is dropped, the valid pieces kept")
        // Found by the text-pieces fuzzer: a run of continuation bytes with no character start in
        // reach; the cut must not split the valid character before it, so the bad byte is the same.
        let run: [UInt8] = [0xEF] + Array(repeating: 0x93, count: 9) + [0xBB, 0xBF, 0x75, 0x98, 0x90, 0x10]
        var runDecoder = TextInput.Decoder()
        var runError: InputError?
        run.withUnsafeBufferPointer { buffer in
            let ranges = TextChunker(maximumBytes: 9).pieces(of: buffer)
            #expect(ranges.first == 0..<9)
            for range in ranges {
                do throws(InputError) { _ = try runDecoder.decode(UnsafeBufferPointer(rebasing: buffer[range])) } catch {
                    runError = error
                    break
                }
            }
        }
        #expect(runError?.reason.contains("offset 3") == true, "\(runError?.reason ?? "no error")")
        var spaces = TextInput.Decoder()
        let blank = Array(" \n \n".utf8)
        _ = blank.withUnsafeBufferPointer { try? spaces.decode($0) }
        #expect(throws: InputError(code: "empty", reason: "the file holds only whitespace")) { try spaces.finish() }
    }
}
