import Foundation
import MedtagFormats
import MedtagNormalize

/// Paths and helpers shared by the tests.
enum Support {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The PharmaCoNER corpus (train and dev), beside the repository or named by MEDTAG_CORPUS.
    static var corpus: URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MEDTAG_CORPUS"] { candidates.append(URL(fileURLWithPath: env)) }
        candidates.append(repoRoot.appendingPathComponent("shared/corpora/pharmaconer"))
        candidates.append(repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora/pharmaconer"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("train").path) }
    }
    static var hasCorpus: Bool { corpus != nil }

    static var abbreviationTable: URL { repoRoot.appendingPathComponent("Models/lexicon/abbreviations.tsv") }

    /// A new, empty folder under the system's temporary folder. Remove it with ``remove(_:)`` (in a
    /// `defer`) when the test is done with it.
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-normalize-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a folder made by ``temporaryDirectory()``. A lexicon already opened from it stays
    /// readable: it is memory-mapped and its descriptor closed, so the mapping outlives the file.
    static func remove(_ directory: URL) {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Gold mentions of one `.ann` file, read with the BRAT parser.
    static func mentions(ann: String) throws -> [GoldMention] {
        try BRAT.parse(ann).map { GoldMention(label: $0.label, text: $0.text, code: $0.code) }
    }

    static func documents(split: String) throws -> [(id: String, mentions: [GoldMention])] {
        guard let corpus else { return [] }
        let dir = corpus.appendingPathComponent(split)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".ann") }.sorted()
        return try names.map { name in
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            return (String(name.dropLast(4)), try mentions(ann: text))
        }
    }

    static func builder(splits: [String], gazetteer: Bool = true) throws -> LexiconBuilder {
        var builder = LexiconBuilder()
        for split in splits {
            for document in try documents(split: split) {
                for m in document.mentions { if let code = m.code { builder.addMention(text: m.text, label: m.label, code: code) } }
            }
        }
        if gazetteer, let corpus {
            let text = try String(contentsOf: corpus.appendingPathComponent("gazetteer.txt"), encoding: .utf8)
            for line in text.split(separator: "\n") { builder.addName(String(line)) }
        }
        return builder
    }
}
