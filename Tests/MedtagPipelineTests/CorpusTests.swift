import Foundation
import MedtagFormats
import MedtagIngest
import MedtagPipeline
import MedtagTagging
import MedtagText
import Testing
import MedtagTestSupport

/// Measurements on the PharmaCoNER train and dev splits.
@Suite(.enabled(if: Paths.hasPharmaconer, "PharmaCoNER corpus not found (set MEDTAG_CORPORA)"))
struct CorpusTests {
    static let documents: [Document] = {
        let tokenizer = Tokenizer()
        return ["train", "dev"].flatMap { (try? BRATFolder(Paths.pharmaconer.appendingPathComponent($0).path).documents(tokenizer: tokenizer)) ?? [] }
    }()

    @Test func corpusIsThere() {
        #expect(Self.documents.count == 750)
        #expect(Self.documents.reduce(0) { $0 + $1.entities.count } == 5748)
    }

    /// The corpus itself has five mentions whose offsets are off by one or two characters
    /// (e.g. `ence-Jones ` for `Bence-Jones`); everything else matches the text exactly.
    @Test func goldTextMatchesOffsets() {
        var mismatches: [String] = []
        for document in Self.documents {
            for entity in document.entities where document.text(from: entity.start, to: entity.end) != entity.text {
                mismatches.append("\(document.id) \(entity.id) '\(entity.text)' ≠ '\(document.text(from: entity.start, to: entity.end))'")
            }
        }
        print("gold mentions whose offsets do not match their text: \(mismatches.count)")
        for m in mismatches { print("  \(m)") }
        #expect(mismatches.count == 5)
    }

    @Test func mentionsFallOnTokenBoundaries() {
        let stats = AlignmentStatistics(Self.documents)
        print(
            "tokenizer: \(stats.misaligned) of \(stats.mentions) mentions (\(String(format: "%.2f", stats.misalignedRate * 100))%) "
                + "do not fall on token boundaries; \(stats.crossSentence) cross a sentence boundary")
        for example in stats.examples.prefix(20) { print("  \(example)") }
        #expect(stats.mentions == 5748)
        #expect(stats.misalignedRate < 0.01)
        #expect(Double(stats.crossSentence) / Double(stats.mentions) < 0.002)
        for document in Self.documents {
            for token in document.tokens { #expect(document.text(from: token.start, to: token.end) == token.text) }
        }
    }

    @Test(arguments: TagScheme.allCases)
    func schemeRoundTripOnTheCorpus(_ scheme: TagScheme) {
        var total = 0
        var kept = 0
        var nested = 0
        var nestedKept = 0
        for document in Self.documents {
            for (s, spans) in document.tokenSpansBySentence().enumerated() {
                let count = document.sentences[s].tokens.count
                let decoded = scheme.decode(scheme.encode(spans, count: count))
                let expected = scheme.representable(spans)
                // Everything the scheme can represent comes back, and nothing else.
                #expect(Set(decoded) == Set(expected), "\(document.id) sentence \(s)")
                total += spans.count
                kept += Set(decoded).intersection(spans).count
                let inner = spans.filter { a in spans.contains { b in b != a && b.start <= a.start && a.end <= b.end } }
                nested += inner.count
                nestedKept += Set(decoded).intersection(inner).count
            }
        }
        print(
            "\(scheme.rawValue): \(kept) of \(total) token-level mentions survive spans → tags → spans; "
                + "nested mentions: \(nested), kept \(nestedKept), lost \(nested - nestedKept)")
        #expect(total == 5748 - 4 + 4)  // every gold mention maps to a sentence
        #expect(total - kept <= 2, "only mentions sharing a token with another may be lost")
    }
}
