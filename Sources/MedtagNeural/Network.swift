import COpenBLAS
import Foundation

/// Row-major C = A · Bᵀ (+ C when `accumulate`), A [m, k] with leading dimension `lda`,
/// B [n, k] with leading dimension `ldb`.
@inline(__always)
func gemmABt(
    _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, accumulate: Bool = false
) {
    guard m > 0, n > 0, k > 0 else { return }
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
        accumulate ? 1 : 0, c, Int32(ldc))
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// Weights of one LSTM direction, as PyTorch stores them (gates i, f, g, o).
struct LSTMWeights: @unchecked Sendable {
    /// [4H, input] in the mapping.
    let inputWeights: UnsafePointer<Float>
    /// [4H, H] in the mapping.
    let hiddenWeights: UnsafePointer<Float>
    /// bias_ih + bias_hh, [4H].
    let bias: [Float]
    let hidden: Int
    let input: Int

    init(_ file: SafeTensorsFile, _ prefix: String, suffix: String, input: Int, hidden: Int) throws(NeuralModelError) {
        inputWeights = try file.f32("\(prefix).weight_ih_l0\(suffix)", [4 * hidden, input])
        hiddenWeights = try file.f32("\(prefix).weight_hh_l0\(suffix)", [4 * hidden, hidden])
        let bih = try file.f32("\(prefix).bias_ih_l0\(suffix)", [4 * hidden])
        let bhh = try file.f32("\(prefix).bias_hh_l0\(suffix)", [4 * hidden])
        bias = (0..<(4 * hidden)).map { bih[$0] + bhh[$0] }
        self.hidden = hidden
        self.input = input
    }
}

/// One LSTM cell update from pre-activations `gates` [4H] (i, f, g, o): updates `c` and writes `h`.
@inline(__always)
func lstmCell(
    _ gates: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ hidden: Int
) {
    for j in 0..<hidden {
        let i = sigmoid(gates[j])
        let f = sigmoid(gates[hidden + j])
        let g = tanhf(gates[2 * hidden + j])
        let o = sigmoid(gates[3 * hidden + j])
        let cell = f * c[j] + i * g
        c[j] = cell
        h[j] = o * tanhf(cell)
    }
}

/// One trained network of the ensemble (all but the shared word vectors and the CRF).
struct Member: @unchecked Sendable {
    let charHidden: Int
    /// Character embedding already projected through each direction's input weights plus biases:
    /// [chars, 4·charHidden].
    let charTableForward: [Float]
    let charTableBackward: [Float]
    let charRecurrentForward: UnsafePointer<Float>
    let charRecurrentBackward: UnsafePointer<Float>
    let casing: UnsafePointer<Float>
    let casingDim: Int
    let forward: LSTMWeights
    let backward: LSTMWeights
    let output: UnsafePointer<Float>
    let outputBias: UnsafePointer<Float>

    init(
        _ file: SafeTensorsFile, prefix p: String, chars: Int, charDim: Int, charHidden: Int, casingDim: Int,
        input: Int, hidden: Int, tags: Int
    ) throws(NeuralModelError) {
        self.charHidden = charHidden
        let embedding = try file.f32("\(p)char.weight", [chars, charDim])
        let charF = try LSTMWeights(file, "\(p)char_lstm", suffix: "", input: charDim, hidden: charHidden)
        let charB = try LSTMWeights(file, "\(p)char_lstm", suffix: "_reverse", input: charDim, hidden: charHidden)
        func table(_ w: LSTMWeights) -> [Float] {
            var out = [Float](repeating: 0, count: chars * 4 * charHidden)
            for c in 0..<chars {
                for g in 0..<(4 * charHidden) {
                    var sum = w.bias[g]
                    for d in 0..<charDim { sum += embedding[c * charDim + d] * w.inputWeights[g * charDim + d] }
                    out[c * 4 * charHidden + g] = sum
                }
            }
            return out
        }
        charTableForward = table(charF)
        charTableBackward = table(charB)
        charRecurrentForward = charF.hiddenWeights
        charRecurrentBackward = charB.hiddenWeights
        casing = try file.f32("\(p)case.weight", [TokenFeatures.casingClasses, casingDim])
        self.casingDim = casingDim
        forward = try LSTMWeights(file, "\(p)lstm", suffix: "", input: input, hidden: hidden)
        backward = try LSTMWeights(file, "\(p)lstm", suffix: "_reverse", input: input, hidden: hidden)
        output = try file.f32("\(p)out.weight", [tags, 2 * hidden])
        outputBias = try file.f32("\(p)out.bias", [tags])
    }

    /// Final forward and backward states of the character Bi-LSTM over `ids`, written to `out`
    /// [2·charHidden].
    func charRepresentation(_ ids: [Int32], _ out: UnsafeMutablePointer<Float>) {
        let hsz = charHidden
        let g4 = 4 * hsz
        withUnsafeTemporaryAllocation(of: Float.self, capacity: g4 + 2 * hsz) { scratch in
            let gates = scratch.baseAddress!
            let c = gates + g4
            let h = c + hsz
            for direction in 0..<2 {
                let table = direction == 0 ? charTableForward : charTableBackward
                let recurrent = direction == 0 ? charRecurrentForward : charRecurrentBackward
                for j in 0..<hsz {
                    c[j] = 0
                    h[j] = 0
                }
                table.withUnsafeBufferPointer { t in
                    for step in 0..<ids.count {
                        let id = Int(ids[direction == 0 ? step : ids.count - 1 - step])
                        let row = t.baseAddress! + id * g4
                        for g in 0..<g4 {
                            var sum = row[g]
                            let w = recurrent + g * hsz
                            for j in 0..<hsz { sum += w[j] * h[j] }
                            gates[g] = sum
                        }
                        lstmCell(gates, c, h, hsz)
                    }
                }
                for j in 0..<hsz { out[direction * hsz + j] = h[j] }
            }
        }
    }
}
