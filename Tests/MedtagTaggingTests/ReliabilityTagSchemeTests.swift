import Foundation
import Testing

@testable import MedtagTagging

/// Regression: choosing which mentions a scheme can represent used to compare every mention with every
/// mention kept so far, so one sentence holding tens of thousands of mentions (a long line without
/// full stops) took minutes to render as CoNLL.
struct ReliabilityTagSchemeTests {
    /// The original quadratic selection, kept as the reference the fast one must agree with (with the
    /// label as a last tie-break: the original left equal ranges in the order of a Set).
    static func referenceLayers(_ spans: [TokenSpan], scheme: TagScheme) -> [TokenSpan] {
        let ordered = Set(spans).sorted { ($0.count, $1.start, $1.label) > ($1.count, $0.start, $0.label) }
        var outer: [TokenSpan] = []
        var rest: [TokenSpan] = []
        for s in ordered where s.count > 0 {
            if outer.contains(where: { $0.overlaps(s) }) { rest.append(s) } else { outer.append(s) }
        }
        var inner: [TokenSpan] = []
        if scheme == .bmewov {
            for s in rest where s.count == 1 {
                guard let host = outer.first(where: { $0.contains(s) }), s.start > host.start, s.start < host.end - 1,
                    !inner.contains(where: { $0.start == s.start })
                else { continue }
                inner.append(s)
            }
        }
        return (outer.sorted() + inner.sorted()).sorted()
    }

    @Test("the representable mentions are those of the reference selection, on random overlapping spans")
    func agreesWithReference() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<400 {
            let count = Int.random(in: 1...30, using: &generator)
            let spans = (0..<Int.random(in: 0...25, using: &generator)).map { _ in
                let start = Int.random(in: -2...count, using: &generator)
                return TokenSpan(
                    start: start, end: start + Int.random(in: -1...6, using: &generator),
                    label: ["A", "B", "C"].randomElement(using: &generator)!)
            }
            for scheme in TagScheme.allCases {
                #expect(
                    scheme.representable(spans) == Self.referenceLayers(spans, scheme: scheme),
                    "round \(round), \(scheme): \(spans)")
            }
        }
    }

    @Test("the same range under two labels gives the same tags in every run")
    func tiesAreDeterministic() {
        let spans = [TokenSpan(start: 1, end: 3, label: "B"), TokenSpan(start: 1, end: 3, label: "A")]
        for _ in 0..<50 {
            // Fresh arrays and sets each time: the order of a Set differs between instances.
            #expect(TagScheme.bio.encode(spans.shuffled(), count: 4) == ["O", "B-A", "I-A", "O"])
        }
    }

    @Test("50,000 mentions in one sentence encode in well under a second of work each")
    func manyMentionsInOneSentence() {
        let count = 100_000
        let spans = stride(from: 0, to: count, by: 2).map { TokenSpan(start: $0, end: $0 + 1, label: "NORMALIZABLES") }
        let started = Date()
        let tags = TagScheme.bmewov.encode(spans, count: count)
        let seconds = Date().timeIntervalSince(started)
        #expect(tags.filter { $0 == "W-NORMALIZABLES" }.count == 50_000)
        // The quadratic version needed about 1.25 billion comparisons here (minutes in a debug build).
        // Instrumented builds (`make sanitize` sets MEDTAG_TEST_TIME_SCALE) get proportionally longer.
        let scale = ProcessInfo.processInfo.environment["MEDTAG_TEST_TIME_SCALE"].flatMap(Double.init).map { max($0, 1) } ?? 1
        #expect(seconds < 20 * scale, "took \(seconds) s")
    }
}
