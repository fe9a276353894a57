import Foundation
import MedtagText
import Testing
import MedtagTestSupport

/// medtag's English tokenizer against the tokens the BC5CDR and BC2GM authors distribute.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: Paths.corpora.appendingPathComponent("en").path), "English corpora not found"))
struct EnglishTokenizationTests {
    @Test(arguments: ["BC5CDR-IOB", "BC2GM-IOB"])
    func tokensMatchTheCorpusTokenization(_ corpus: String) throws {
        let url = Paths.corpora.appendingPathComponent("en/\(corpus)/train.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        let tokenizer = Tokenizer(rules: .english)
        var theirs = 0
        var reproduced = 0
        var examples: [String: Int] = [:]
        var sentence: [Substring] = []
        func check() {
            guard !sentence.isEmpty else { return }
            // Join their tokens with spaces, tokenize, and see which of their tokens come back whole.
            var spans = Set<[Int]>()
            var offset = 0
            for token in sentence {
                let length = token.unicodeScalars.count
                spans.insert([offset, offset + length])
                offset += length + 1
            }
            let joined = sentence.joined(separator: " ")
            let ours = tokenizer.analyze(Array(joined.unicodeScalars)).tokens
            let ourSpans = Set(ours.map { [$0.start, $0.end] })
            theirs += spans.count
            reproduced += spans.intersection(ourSpans).count
            for t in ours where !spans.contains([t.start, t.end]) { examples[t.text, default: 0] += 1 }
            sentence = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { check() } else { sentence.append(line.split(separator: "\t").first ?? "") }
        }
        check()
        let differ = theirs - reproduced
        let rate = Double(differ) / Double(theirs)
        print(
            "\(corpus): \(differ) of \(theirs) corpus tokens (\(String(format: "%.3f", rate * 100))%) tokenized differently by medtag; "
                + "most frequent of ours: \(examples.sorted { $0.value > $1.value }.prefix(8).map { "\($0.key)×\($0.value)" }.joined(separator: " "))")
        #expect(theirs > 100_000)
        #expect(rate < 0.005)
    }
}
