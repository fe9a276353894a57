import Foundation
import MedtagFormats
import MedtagIngest
import MedtagModel
import MedtagTagging
import MedtagText
import SystemPackage

/// A folder of BRAT pairs (`NAME.txt` + `NAME.ann`), as PharmaCoNER ships.
public enum BRATCorpus {
    /// Document ids (file names without `.txt`) in a folder, sorted.
    public static func documentIDs(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".txt") && !$0.hasPrefix(".") }
            .map { String($0.dropLast(4)) }
            .sorted()
    }

    /// Reads every document with its gold entities (none where an `.ann` is missing), tokenized.
    ///
    /// Each entity's text is checked against the document text at its offsets.
    public static func read(_ directory: URL, tokenizer: Tokenizer = Tokenizer()) throws -> [Document] {
        try documentIDs(in: directory).map { id in
            let text = try DocumentText.read(FilePath(directory.appendingPathComponent("\(id).txt").path))
            var document = Document(id: id, text: text, language: tokenizer.rules.language)
            tokenizer.process(&document)
            let annURL = directory.appendingPathComponent("\(id).ann")
            if let ann = try? String(contentsOf: annURL, encoding: .utf8) {
                var entities: [Entity]
                do { entities = try BRAT.parse(ann) } catch { throw ModelError(path: annURL.path, reason: "\(error)") }
                for k in entities.indices {
                    let e = entities[k]
                    guard e.end <= document.scalars.count else {
                        throw ModelError(path: annURL.path, reason: "\(e.id) ends at \(e.end), past the text (\(document.scalars.count))")
                    }
                    entities[k].sentence = document.sentenceIndex(containing: e.start)
                }
                document.entities = entities.sorted { ($0.start, $1.end) < ($1.start, $0.end) }
            }
            return document
        }
    }
}
