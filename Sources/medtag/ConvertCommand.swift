import ArgumentParser
import Foundation
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagStorage
import MedtagTagging
import MedtagText
import SystemPackage

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert annotations between BRAT folders, CoNLL files and subtrack-2 .tsv files.",
        discussion: """
            brat → conll: tokenizes each NAME.txt of the input folders with medtag's tokenizer and \
            encodes the mentions of NAME.ann in the chosen tag scheme, one CoNLL file for all.

            conll → brat: reads a CoNLL file with offsets and writes NAME.ann files; the texts \
            (--texts) give each mention its exact text.

            brat → tsv: writes NAME.tsv for each NAME.ann of the input folders: the document's \
            distinct codes (its AnnotatorNotes lines) as `NAME<TAB>code` lines, empty when it has none. \
            That is the gold side of PharmaCoNER subtrack 2 as the official script reads it, one file \
            per document in a folder of their own.
            """)

    @Option(help: "Target format: conll, brat or tsv.")
    var to: String = "conll"

    @Option(help: "Tag scheme: bio, bioes or bmewov.")
    var scheme: String = "bmewov"

    @Option(help: "Tokenizer language: es or en.")
    var language: String = "es"

    @Option(help: "With --to brat: the folder holding NAME.txt for each document.")
    var texts: String?

    @Option(name: .shortAndLong, help: "Output file (conll) or folder (brat, tsv).")
    var out: String

    @Argument(help: "BRAT folders (to conll or tsv) or one CoNLL file (to brat).")
    var inputs: [String]

    func run() throws {
        guard let scheme = TagScheme(rawValue: scheme) else {
            throw ValidationError("unknown scheme '\(scheme)'; choose bio, bioes or bmewov")
        }
        try requireExisting(inputs + [texts])
        switch to {
        case "conll": try toCoNLL(scheme)
        case "brat": try toBRAT(scheme)
        case "tsv": try toTSV()
        default: throw ValidationError("unknown target '\(to)'; choose conll, brat or tsv")
        }
    }

    func toCoNLL(_ scheme: TagScheme) throws {
        let tokenizer = Tokenizer(rules: .forLanguage(language))
        var documents: [Document] = []
        for input in inputs {
            documents += try BRATFolder(input).documents(tokenizer: tokenizer)
        }
        let stats = AlignmentStatistics(documents)
        try AtomicFile.write(Array(CoNLL.render(documents, scheme: scheme).utf8), to: URL(fileURLWithPath: out))
        let kept = documents.reduce(0) { sum, doc in
            sum + doc.tokenSpansBySentence().reduce(0) { $0 + scheme.representable($1).count }
        }
        print(
            "\(documents.count) documents, \(stats.mentions) mentions, \(stats.misaligned) not on token boundaries, "
                + "\(stats.crossSentence) across sentences, \(kept) representable in \(scheme.rawValue) → \(out)")
    }

    func toBRAT(_ scheme: TagScheme) throws {
        guard inputs.count == 1 else { throw ValidationError("give one CoNLL file") }
        let blocks = try CoNLL.parse(try String(contentsOf: URL(fileURLWithPath: inputs[0]), encoding: .utf8))
        let outURL = URL(fileURLWithPath: out)
        for block in blocks {
            var text: [Unicode.Scalar]? = nil
            if let texts {
                text = Array(try DocumentText.read(FilePath(texts).appending("\(block.id).txt")).unicodeScalars)
            }
            var entities: [Entity] = []
            for sentence in block.sentences {
                for span in scheme.decode(sentence.map(\.tag)) {
                    guard let start = sentence[span.start].start, let end = sentence[span.end - 1].end else {
                        throw ValidationError("\(inputs[0]): document \(block.id) has no offsets; BRAT needs them")
                    }
                    let mention =
                        text.map { String(String.UnicodeScalarView($0[start..<end])) }
                        ?? sentence[span.start..<span.end].map(\.token).joined(separator: " ")
                    entities.append(Entity(id: "T\(entities.count + 1)", label: span.label, start: start, end: end, text: mention))
                }
            }
            var document = Document(id: block.id, text: "")
            document.entities = entities
            try AtomicFile.write(Array(BRAT.render(document).utf8), to: outURL.appendingPathComponent("\(block.id).ann"))
        }
        print("\(blocks.count) documents → \(out)")
    }
}

extension ConvertCommand {
    /// Writes `NAME.tsv` (PharmaCoNER subtrack 2) for each `NAME.ann` directly in the input folders.
    func toTSV() throws {
        var written = 0
        var codes = 0
        var seen: [String: String] = [:]
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { throw missingPath(input) }
            guard isDirectory.boolValue else { throw ValidationFailure("\(input): not a folder; give the folder of the .ann files") }
            let folder = BRATFolder(input)
            for id in try folder.annotatedIDs() {
                let file = folder.file(id, extension: "ann")
                if let first = seen.updateValue(file.string, forKey: id) {
                    throw ValidationFailure("\(file): document \(id) is also in \(first); convert each folder into its own --out folder")
                }
                var document = Document(id: id, text: "")
                document.entities = try folder.annotations(id)
                let tsv = SubtrackTSV.render(document)
                codes += tsv.split(separator: "\n").count
                try AtomicFile.write(Array(tsv.utf8), toPath: FilePath(out).appending("\(id).tsv").string)
                written += 1
            }
        }
        print("\(written) documents, \(codes) distinct codes → \(out)")
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the sentences of text files, one a line, tokens separated by a space.",
        discussion: "The output feeds word-embedding training, so embeddings see medtag's own tokens.")

    @Option(help: "Tokenizer language: es or en.")
    var language: String = "es"

    @Flag(help: "Print one token a line with its offsets instead.")
    var offsets = false

    @Argument(help: "Text files.")
    var files: [String]

    func run() throws {
        try requireExisting(files)
        let tokenizer = Tokenizer(rules: .forLanguage(language))
        var out = ""
        for file in files {
            let text = try DocumentText.read(FilePath(file))
            var document = Document(id: file, text: text)
            tokenizer.process(&document)
            for sentence in document.sentences {
                let tokens = document.tokens[sentence.tokens]
                if offsets {
                    for t in tokens { out += "\(t.text)\t\(t.start)\t\(t.end)\n" }
                    out += "\n"
                } else {
                    out += tokens.map(\.text).joined(separator: " ") + "\n"
                }
                if out.utf8.count > 1 << 20 {
                    FileHandle.standardOutput.write(Data(out.utf8))
                    out = ""
                }
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
