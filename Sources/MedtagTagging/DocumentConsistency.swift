import MedtagText

/// Document-level consistency: a string the tagger marked in one place of a note is marked too
/// where it recurs untagged in the same note (whole tokens, same case), with the label it got most.
///
/// Clinical notes repeat drug and protein names; a sequence tagger sees one sentence at a time and
/// sometimes misses a repetition whose context says less. A string the tagger left untagged much
/// more often than it tagged it is left alone: there the one tagged place is the likelier mistake.
/// Runs after the tagger, before the normalizer. Existing mentions are never changed or removed.
public struct DocumentConsistency: DocumentComponent {
    /// Mentions shorter than this many characters are not propagated (abbreviations such as `K`
    /// or `Na` are too ambiguous to mark everywhere).
    public var minimumLength: Int
    /// A string is propagated only when its untagged places are at most this many times its
    /// tagged ones.
    public var maximumRatio: Int
    public var name: String { "consistency" }

    public init(minimumLength: Int = 3, maximumRatio: Int = 2) {
        self.minimumLength = minimumLength
        self.maximumRatio = maximumRatio
    }

    public func process(_ document: inout Document) throws {
        guard !document.entities.isEmpty, !document.tokens.isEmpty else { return }
        // Token index of each token start and end offset, to find mentions on token edges.
        var tokenAtStart: [Int: Int] = [:]
        var tokenAtEnd: [Int: Int] = [:]
        for (k, token) in document.tokens.enumerated() {
            tokenAtStart[token.start] = k
            tokenAtEnd[token.end] = k
        }
        // Mentions as token sequences, with their label counts; indexed by first token text.
        var labels: [[String]: [String: Int]] = [:]
        for entity in document.entities {
            guard entity.end - entity.start >= minimumLength,
                entity.text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }),
                let first = tokenAtStart[entity.start], let last = tokenAtEnd[entity.end], first <= last
            else { continue }
            let key = document.tokens[first...last].map(\.text)
            labels[key, default: [:]][entity.label, default: 0] += 1
        }
        guard !labels.isEmpty else { return }
        // Each string's label (the most frequent; ties go to the alphabetically first, so the result
        // is stable) and how often it was tagged; strings indexed by first token, longest first.
        var chosen: [[String]: (label: String, tagged: Int)] = [:]
        var byFirst: [String: [[String]]] = [:]
        for (key, counts) in labels {
            chosen[key] = (counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key, counts.values.reduce(0, +))
            byFirst[key[0], default: []].append(key)
        }
        for k in byFirst.keys { byFirst[k]!.sort { $0.count > $1.count } }

        // Code points already covered by a mention.
        var covered = [Bool](repeating: false, count: document.scalars.count)
        for entity in document.entities {
            for i in entity.start..<entity.end { covered[i] = true }
        }
        // Untagged places of each string (longest string first at each token).
        var places: [[String]: [(start: Int, stop: Int, sentence: Int)]] = [:]
        for (s, sentence) in document.sentences.enumerated() {
            var k = sentence.tokens.lowerBound
            while k < sentence.tokens.upperBound {
                var matched = 1
                for candidate in byFirst[document.tokens[k].text] ?? [] {
                    let end = k + candidate.count
                    guard end <= sentence.tokens.upperBound,
                        zip(document.tokens[k..<end], candidate).allSatisfy({ pair in pair.0.text == pair.1 })
                    else { continue }
                    let start = document.tokens[k].start
                    let stop = document.tokens[end - 1].end
                    if !covered[start..<stop].contains(true) {
                        places[candidate, default: []].append((start, stop, s))
                        matched = candidate.count
                    }
                    break
                }
                k += matched
            }
        }
        var added: [Entity] = []
        for (key, found) in places.sorted(by: { $0.key.joined(separator: " ") < $1.key.joined(separator: " ") }) {
            guard let (label, tagged) = chosen[key], found.count <= maximumRatio * tagged else { continue }
            for place in found where !covered[place.start..<place.stop].contains(true) {
                added.append(
                    Entity(
                        id: "", label: label, start: place.start, end: place.stop,
                        text: document.text(from: place.start, to: place.stop), sentence: place.sentence))
                for i in place.start..<place.stop { covered[i] = true }
            }
        }
        guard !added.isEmpty else { return }
        var entities = document.entities + added
        entities.sort { ($0.start, $1.end) < ($1.start, $0.end) }
        for k in entities.indices { entities[k].id = "T\(k + 1)" }
        document.entities = entities
    }
}
