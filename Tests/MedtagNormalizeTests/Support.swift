import Foundation
import MedtagFormats
import MedtagNormalize
import MedtagTestSupport

/// Paths and helpers shared by the tests.
enum Support {
    /// The PharmaCoNER corpus (train and dev) under MEDTAG_CORPORA; nil when it is not there.
    static var corpus: URL? { Paths.hasPharmaconer ? Paths.pharmaconer : nil }
    static var hasCorpus: Bool { Paths.hasPharmaconer }

    static var abbreviationTable: URL { Paths.packageRoot.appendingPathComponent("Models/lexicon/abbreviations.tsv") }

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
