/// Contextual string embeddings: a forward and a backward character LSTM language model (as in
/// Flair), run over each sentence. A token's embedding is the forward state after its last
/// character and the backward state after its first one. Mirrors `training/charlm.py`.
///
/// The sentence string is ``boundary`` + tokens joined by one space + ``boundary``; characters are
/// Unicode scalars, unknown ones map to id 0.
struct CharLanguageModel: @unchecked Sendable {
    /// Marks the start and end of a sentence.
    static let boundary: Unicode.Scalar = "\n"
    /// Hidden units of each direction; a token's embedding has twice as many.
    let hidden: Int
    let ids: [Unicode.Scalar: Int32]
    /// Per direction: character embedding projected through the input weights, plus both biases,
    /// [chars, 4·hidden].
    let tableForward: [Float]
    let tableBackward: [Float]
    /// Per direction: recurrent weights [4·hidden, hidden] in the mapping.
    let recurrentForward: UnsafePointer<Float>
    let recurrentBackward: UnsafePointer<Float>
    /// The mapping the recurrent weights point into, kept alive with them.
    let file: SafeTensorsFile

    init(_ file: SafeTensorsFile, chars: [String], embedding: Int, hidden: Int, path: String) throws(NeuralModelError) {
        var ids: [Unicode.Scalar: Int32] = [:]
        for (k, c) in chars.enumerated() where k > 0 {
            guard c.unicodeScalars.count == 1, let s = c.unicodeScalars.first else {
                throw .badFile(path: path, reason: "entry \(k) of the language-model characters is not a single code point")
            }
            ids[s] = Int32(k)
        }
        self.ids = ids
        self.hidden = hidden
        self.file = file
        func direction(_ name: String) throws(NeuralModelError) -> ([Float], UnsafePointer<Float>) {
            let emb = try file.f32("charlm.\(name).emb.weight", [chars.count, embedding])
            let w = try LSTMWeights(file, "charlm.\(name).lstm", suffix: "", input: embedding, hidden: hidden)
            let table = w.projected(emb, rows: chars.count)
            return (table, w.hiddenWeights)
        }
        (tableForward, recurrentForward) = try direction("forward")
        (tableBackward, recurrentBackward) = try direction("backward")
    }

    /// Writes each token's embedding [2·hidden] into `out` at row `firstRow[s] + i` (rows of
    /// `stride` floats, starting at column `column`) for token i of sentence s.
    func embed(
        _ sentences: [[String]], firstRow: [Int], into out: UnsafeMutablePointer<Float>, stride: Int, column: Int
    ) {
        // Character ids of each sentence string, and each token's first and last position.
        var strings: [[Int32]] = []
        var bounds: [[(first: Int, last: Int)]] = []
        strings.reserveCapacity(sentences.count)
        for sentence in sentences {
            var s: [Int32] = [ids[Self.boundary] ?? 0]
            var b: [(Int, Int)] = []
            b.reserveCapacity(sentence.count)
            for (k, token) in sentence.enumerated() {
                if k > 0 { s.append(ids[" "] ?? 0) }
                let first = s.count
                for scalar in token.unicodeScalars { s.append(ids[scalar] ?? 0) }
                b.append((first, s.count - 1))
            }
            s.append(ids[Self.boundary] ?? 0)
            strings.append(s)
            bounds.append(b)
        }
        let order = strings.indices.sorted { strings[$0].count > strings[$1].count }
        let lengths = order.map { strings[$0].count }
        let batch = order.count
        let h = hidden
        let g4 = 4 * h
        // Each sentence position's hidden state is needed only at token boundaries: mark them.
        for direction in 0..<2 {
            let table = direction == 0 ? tableForward : tableBackward
            let recurrent = direction == 0 ? recurrentForward : recurrentBackward
            // wanted[b][t]: destination row of the state after step t, or -1.
            var wanted: [[Int]] = order.map { [Int](repeating: -1, count: strings[$0].count) }
            for (b, s) in order.enumerated() {
                let n = strings[s].count
                for (i, (first, last)) in bounds[s].enumerated() {
                    let step = direction == 0 ? last : n - 1 - first
                    wanted[b][step] = firstRow[s] + i
                }
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: batch * (g4 + 2 * h)) { scratch in
                let gates = scratch.baseAddress!
                let hs = gates + batch * g4
                let cs = hs + batch * h
                for k in 0..<(batch * 2 * h) { hs[k] = 0 }
                table.withUnsafeBufferPointer { tb in
                    var active = batch
                    for t in 0..<(lengths.first ?? 0) {
                        while active > 0 && lengths[active - 1] <= t { active -= 1 }
                        if t > 0 {
                            gemmABt(active, g4, h, hs, h, recurrent, h, gates, g4)
                        }
                        for b in 0..<active {
                            let s = strings[order[b]]
                            let id = Int(s[direction == 0 ? t : s.count - 1 - t])
                            let row = tb.baseAddress! + id * g4
                            let g = gates + b * g4
                            if t == 0 {
                                for j in 0..<g4 { g[j] = row[j] }
                            } else {
                                for j in 0..<g4 { g[j] += row[j] }
                            }
                            lstmCell(g, cs + b * h, hs + b * h, h)
                            let dest = wanted[b][t]
                            if dest >= 0 {
                                let o = out + dest * stride + column + direction * h
                                for j in 0..<h { o[j] = hs[b * h + j] }
                            }
                        }
                    }
                }
            }
        }
    }
}
