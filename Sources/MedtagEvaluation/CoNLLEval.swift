/// Entity-level scores over tag sequences, by the rules of the CoNLL `conlleval` script.
///
/// A chunk starts and ends where conlleval says (B, I after O or another type, E, and S as a
/// one-token chunk); a predicted chunk is correct when a gold chunk has the same start, end and
/// type. Token accuracy is reported beside it, as conlleval does.
public struct CoNLLEvaluation: Sendable {
    public var overall = Score()
    public var byLabel: [String: Score] = [:]
    public var tokens = 0
    public var correctTokens = 0

    public var accuracy: Double { tokens == 0 ? 0 : Double(correctTokens) / Double(tokens) }

    /// Scores sentence by sentence; the two sides must have the same number of tokens per sentence.
    public init(gold: [[String]], predicted: [[String]]) throws(ShapeError) {
        guard gold.count == predicted.count else {
            throw ShapeError("gold has \(gold.count) sentences, predictions \(predicted.count)")
        }
        for (k, (g, p)) in zip(gold, predicted).enumerated() {
            guard g.count == p.count else {
                throw ShapeError("sentence \(k + 1): gold has \(g.count) tokens, predictions \(p.count)")
            }
            tokens += g.count
            correctTokens += zip(g, p).filter { $0 == $1 }.count
            let gc = Set(Self.chunks(g))
            let pc = Set(Self.chunks(p))
            for c in gc.intersection(pc) { byLabel[c.type, default: Score()].truePositives += 1 }
            for c in pc.subtracting(gc) { byLabel[c.type, default: Score()].falsePositives += 1 }
            for c in gc.subtracting(pc) { byLabel[c.type, default: Score()].falseNegatives += 1 }
        }
        overall = byLabel.values.reduce(Score(), +)
    }

    /// A chunk: token range and type.
    public struct Chunk: Hashable, Sendable {
        public var start: Int
        public var end: Int
        public var type: String
    }

    /// Chunks of one sentence, as conlleval finds them.
    public static func chunks(_ tags: [String]) -> [Chunk] {
        var result: [Chunk] = []
        var open: (start: Int, type: String)?
        var prevTag = "O"
        var prevType = ""
        for (k, raw) in (tags + ["O"]).enumerated() {
            let (tag, type) = split(raw)
            if open != nil, endOfChunk(prevTag, tag, prevType, type) {
                result.append(Chunk(start: open!.start, end: k, type: open!.type))
                open = nil
            }
            if startOfChunk(prevTag, tag, prevType, type) { open = (k, type) }
            prevTag = tag
            prevType = type
        }
        return result
    }

    static func split(_ raw: String) -> (String, String) {
        guard raw != "O", let dash = raw.firstIndex(of: "-") else { return ("O", "") }
        return (String(raw[..<dash]), String(raw[raw.index(after: dash)...]))
    }

    static func endOfChunk(_ prevTag: String, _ tag: String, _ prevType: String, _ type: String) -> Bool {
        switch (prevTag, tag) {
        case ("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O"), ("E", "B"), ("E", "S"):
            return true
        case ("S", _), ("B", "S"), ("I", "S"):
            return true
        default:
            return prevTag != "O" && prevType != type
        }
    }

    static func startOfChunk(_ prevTag: String, _ tag: String, _ prevType: String, _ type: String) -> Bool {
        switch (prevTag, tag) {
        case ("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E"), ("E", "B"), ("S", "B"):
            return true
        case (_, "S"):
            return true
        case ("S", "I"), ("S", "E"):
            return true
        default:
            return tag != "O" && prevType != type
        }
    }
}

/// Two tag files that do not line up.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
