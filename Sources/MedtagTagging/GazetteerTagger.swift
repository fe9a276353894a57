import MedtagText

/// A dictionary tagger: the longest listed token sequence wins, left to right.
///
/// Entries are lower-cased token sequences with a label. It needs no training run and stands in
/// wherever no neural model is installed.
public struct GazetteerTagger: Tagger {
    public let name: String
    /// Lower-cased tokens joined by a space → label.
    public let entries: [String: String]
    private let longest: Int

    public init(name: String = "gazetteer", entries: [String: String]) {
        self.name = name
        self.entries = entries
        self.longest = entries.keys.map { $0.split(separator: " ").count }.max() ?? 0
    }

    /// Reads `LABEL<TAB>token token …` lines.
    public init(name: String = "gazetteer", tsv: String) throws(GazetteerError) {
        var entries: [String: String] = [:]
        for (number, line) in tsv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw GazetteerError(line: number + 1, reason: "expected LABEL<TAB>tokens")
            }
            entries[String(fields[1])] = String(fields[0])
        }
        self.init(name: name, entries: entries)
    }

    /// The entries as `LABEL<TAB>tokens` lines, sorted, for a file.
    public var tsv: String {
        entries.sorted { $0.key < $1.key }.map { "\($0.value)\t\($0.key)\n" }.joined()
    }

    public func tag(_ sentences: [[String]]) -> [[TokenSpan]] {
        sentences.map { tokens in
            let lowered = tokens.map { $0.lowercased() }
            var spans: [TokenSpan] = []
            var k = 0
            while k < lowered.count {
                var matched = false
                for length in stride(from: min(longest, lowered.count - k), through: 1, by: -1) {
                    if let label = entries[lowered[k..<(k + length)].joined(separator: " ")] {
                        spans.append(TokenSpan(start: k, end: k + length, label: label))
                        k += length
                        matched = true
                        break
                    }
                }
                if !matched { k += 1 }
            }
            return spans
        }
    }

    /// Builds entries from annotated documents and a term list.
    ///
    /// A mention enters when it is annotated at least `minimumPrecision` of the times its tokens
    /// occur in the documents (so common words that are sometimes annotated stay out); its label is
    /// the most frequent one. A listed term (label `termLabel`) enters unless the documents show
    /// it mostly unannotated.
    public static func build(
        documents: [Document], terms: [String], termLabel: String, tokenizer: Tokenizer,
        minimumPrecision: Double = 0.5
    ) -> GazetteerTagger {
        var labelCounts: [String: [String: Int]] = [:]
        for document in documents {
            for entity in document.entities {
                guard let aligned = document.alignment(start: entity.start, end: entity.end), aligned.isExact
                else { continue }
                let key = document.tokens[aligned.tokens].map { $0.text.lowercased() }.joined(separator: " ")
                labelCounts[key, default: [:]][entity.label, default: 0] += 1
            }
        }
        var termKeys: [String] = []
        for term in terms {
            var doc = Document(id: "term", text: term)
            tokenizer.process(&doc)
            let key = doc.tokens.map { $0.text.lowercased() }.joined(separator: " ")
            if !key.isEmpty { termKeys.append(key) }
        }
        // How often each candidate occurs at all, annotated or not.
        let candidates = Set(labelCounts.keys).union(termKeys)
        let maxLength = candidates.map { $0.split(separator: " ").count }.max() ?? 0
        var occurrences: [String: Int] = [:]
        for document in documents {
            for sentence in document.sentences {
                let words = document.tokens[sentence.tokens].map { $0.text.lowercased() }
                for i in words.indices {
                    for length in 1...max(1, min(maxLength, words.count - i)) {
                        let key = words[i..<(i + length)].joined(separator: " ")
                        if candidates.contains(key) { occurrences[key, default: 0] += 1 }
                    }
                }
            }
        }
        var entries: [String: String] = [:]
        for key in termKeys {
            let seen = occurrences[key] ?? 0
            let annotated = labelCounts[key]?.values.reduce(0, +) ?? 0
            if seen < 2 || Double(annotated) / Double(seen) >= minimumPrecision { entries[key] = termLabel }
        }
        for (key, counts) in labelCounts {
            let annotated = counts.values.reduce(0, +)
            let seen = max(occurrences[key] ?? annotated, annotated)
            guard Double(annotated) / Double(seen) >= minimumPrecision else {
                entries[key] = nil
                continue
            }
            entries[key] = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
        }
        return GazetteerTagger(entries: entries)
    }
}

/// A gazetteer file line that cannot be read.
public struct GazetteerError: Error, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "gazetteer line \(line): \(reason)" }
}
