import Foundation
import Testing

@testable import MedtagNeural

/// The contextual character language model against a plain, one-sentence-at-a-time LSTM written
/// out here (exact tanh and sigmoid), on small random weights in a real safetensors file.
@Suite struct CharLanguageModelTests {
    static let chars = ["<unk>", "\n", " ", "a", "b", "c", "-", "1"]
    static let embedding = 3
    static let hidden = 5

    /// Deterministic pseudo-random weights in [-0.5, 0.5).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
    }

    static let tensors: [(name: String, shape: [Int], values: [Float])] = {
        var out: [(String, [Int], [Float])] = []
        var seed: UInt64 = 1
        for direction in ["forward", "backward"] {
            let shapes: [(String, [Int])] = [
                ("emb.weight", [chars.count, embedding]), ("lstm.weight_ih_l0", [4 * hidden, embedding]),
                ("lstm.weight_hh_l0", [4 * hidden, hidden]), ("lstm.bias_ih_l0", [4 * hidden]),
                ("lstm.bias_hh_l0", [4 * hidden]),
            ]
            for (name, shape) in shapes {
                out.append(("charlm.\(direction).\(name)", shape, values(shape.reduce(1, *), seed: seed)))
                seed += 1
            }
        }
        return out
    }()

    /// A safetensors file holding ``tensors``.
    static func file() throws -> SafeTensorsFile {
        var header: [String: Any] = [:]
        var data: [UInt8] = []
        for t in tensors {
            let bytes = t.values.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [data.count, data.count + bytes.count]]
            data += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // tensors aligned, as safetensors pads
        var out: [UInt8] = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        out += json
        out += data
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charlm-\(UUID().uuidString).safetensors")
        try Data(out).write(to: url)
        return try SafeTensorsFile(path: url.path)
    }

    /// States of one direction over `ids`, computed plainly: [steps][hidden].
    static func reference(_ direction: String, _ ids: [Int]) -> [[Float]] {
        func tensor(_ name: String) -> [Float] { tensors.first { $0.name == "charlm.\(direction).\(name)" }!.values }
        let emb = tensor("emb.weight"), wih = tensor("lstm.weight_ih_l0"), whh = tensor("lstm.weight_hh_l0")
        let bih = tensor("lstm.bias_ih_l0"), bhh = tensor("lstm.bias_hh_l0")
        let h4 = 4 * hidden
        var h = [Float](repeating: 0, count: hidden), c = h
        var out: [[Float]] = []
        func sigmoid(_ x: Float) -> Float { 1 / (1 + Float(exp(-Double(x)))) }
        for id in ids {
            var g = [Float](repeating: 0, count: h4)
            for r in 0..<h4 {
                var s = bih[r] + bhh[r]
                for k in 0..<embedding { s += wih[r * embedding + k] * emb[id * embedding + k] }
                for k in 0..<hidden { s += whh[r * hidden + k] * h[k] }
                g[r] = s
            }
            for j in 0..<hidden {
                let i = sigmoid(g[j]), f = sigmoid(g[hidden + j]), o = sigmoid(g[3 * hidden + j])
                c[j] = f * c[j] + i * Float(tanh(Double(g[2 * hidden + j])))
                h[j] = o * Float(tanh(Double(c[j])))
            }
            out.append(h)
        }
        return out
    }

    @Test func tokenStatesMatchAPlainLSTMAloneAndInABatch() throws {
        let model = try CharLanguageModel(
            try Self.file(), chars: Self.chars, embedding: Self.embedding, hidden: Self.hidden, path: "test")
        // Mixed lengths, an unknown character (z), a one-token sentence.
        let sentences = [["ab", "c-1"], ["a"], ["cab", "z", "b1", "aa"]]
        let width = 2 * Self.hidden + 3  // rows wider than the states, written at column 2
        func run(_ batch: [[String]]) -> [[Float]] {
            var rows = [Int](), total = 0
            for s in batch {
                rows.append(total)
                total += s.count
            }
            var out = [Float](repeating: -7, count: total * width)
            out.withUnsafeMutableBufferPointer { model.embed(batch, firstRow: rows, into: $0.baseAddress!, stride: width, column: 2) }
            return (0..<total).map { Array(out[($0 * width)..<(($0 + 1) * width)]) }
        }
        let together = run(sentences)
        var row = 0
        for sentence in sentences {
            let alone = run([sentence])
            // The sentence string: boundary, tokens joined by a space, boundary; unknown -> 0.
            let text = "\n" + sentence.joined(separator: " ") + "\n"
            let ids = text.unicodeScalars.map { s in Self.chars.firstIndex(of: String(s)) ?? 0 }
            let forward = Self.reference("forward", ids)
            let backward = Self.reference("backward", ids.reversed())
            var position = 1
            for (i, token) in sentence.enumerated() {
                let first = position, last = position + token.unicodeScalars.count - 1
                let expected = forward[last] + backward[ids.count - 1 - first]
                for got in [together[row], alone[i]] {
                    #expect(got[0] == -7 && got[1] == -7 && got[width - 1] == -7, "only the state columns are written")
                    let worst = zip(got[2..<(2 + 2 * Self.hidden)], expected).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst < 1e-5, "token '\(token)': max |Δ| = \(worst)")
                }
                position = last + 2
                row += 1
            }
        }
    }
}
