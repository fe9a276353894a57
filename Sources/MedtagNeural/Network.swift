import CKernels
import Foundation

/// Row-major C = A · Bᵀ (+ C when `accumulate`), A [m, k] with leading dimension `lda`,
/// B [n, k] with leading dimension `ldb`.
@inline(__always)
func gemmABt(
    _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, accumulate: Bool = false
) {
    guard m > 0, n > 0, k > 0 else { return }
    blasSgemm(
        Int32(MEDTAG_CBLAS_ROW_MAJOR), Int32(MEDTAG_CBLAS_NO_TRANS), Int32(MEDTAG_CBLAS_TRANS),
        Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
}

/// Weights of one LSTM direction, as PyTorch stores them (gates i, f, g, o).
struct LSTMWeights: @unchecked Sendable {
    /// [4H, input] in the mapping.
    let inputWeights: UnsafePointer<Float>
    /// [4H, H] in the mapping.
    let hiddenWeights: UnsafePointer<Float>
    /// ``hiddenWeights`` packed for ``recurrentStep(_:_:_:)`` (medtag_pack).
    let packedHidden: [Float]
    /// bias_ih + bias_hh, [4H].
    let bias: [Float]
    let hidden: Int
    let input: Int

    init(_ file: SafeTensorsFile, _ prefix: String, suffix: String, input: Int, hidden: Int) throws(NeuralModelError) {
        inputWeights = try file.f32("\(prefix).weight_ih_l0\(suffix)", [4 * hidden, input])
        let recurrent = try file.f32("\(prefix).weight_hh_l0\(suffix)", [4 * hidden, hidden])
        hiddenWeights = recurrent
        var packed = [Float](repeating: 0, count: medtag_packed_count(Int32(4 * hidden), Int32(hidden)))
        packed.withUnsafeMutableBufferPointer {
            medtag_pack(recurrent, Int32(4 * hidden), Int32(hidden), Int32(hidden), $0.baseAddress!)
        }
        packedHidden = packed
        let bih = try file.f32("\(prefix).bias_ih_l0\(suffix)", [4 * hidden])
        let bhh = try file.f32("\(prefix).bias_hh_l0\(suffix)", [4 * hidden])
        bias = (0..<(4 * hidden)).map { bih[$0] + bhh[$0] }
        self.hidden = hidden
        self.input = input
    }

    /// gates [rows, 4H] = states [rows, H] · hiddenᵀ: one recurrent step of `rows` sequences, on
    /// medtag's own product over the packed weights (a BLAS call would repack them at every step).
    func recurrentStep(_ rows: Int, _ states: UnsafePointer<Float>, _ gates: UnsafeMutablePointer<Float>) {
        packedHidden.withUnsafeBufferPointer {
            medtag_gemm_packed(
                Int32(rows), Int32(4 * hidden), Int32(hidden), states, Int32(hidden), $0.baseAddress!, gates,
                Int32(4 * hidden), 0, recurrentPath)
        }
    }

    /// A table of `rows` input vectors (`embedding`, [rows, input]) already projected through the
    /// input weights, plus the biases: [rows, 4H], so a step adds one row instead of a product.
    func projected(_ embedding: UnsafePointer<Float>, rows: Int) -> [Float] {
        let g4 = 4 * hidden
        var table = [Float](repeating: 0, count: rows * g4)
        table.withUnsafeMutableBufferPointer { t in
            gemmABt(rows, g4, input, embedding, input, inputWeights, input, t.baseAddress!, g4)
            for r in 0..<rows {
                for g in 0..<g4 { t[r * g4 + g] += bias[g] }
            }
        }
        return table
    }
}

/// tanh as a rational approximation (the one Eigen uses for floats: a few ulp from the exact
/// value, saturating beyond ±7.9): ``fastTanh4(_:)`` on one lane, for the hidden units that do not
/// fill four.
@inline(__always)
func fastTanh(_ v: Float) -> Float {
    fastTanh4(SIMD4(repeating: v))[0]
}

/// tanh on four lanes by the rational approximation (see ``fastTanh(_:)``), so loops over it vectorize.
@inline(__always)
func fastTanh4(_ v: SIMD4<Float>) -> SIMD4<Float> {
    let limit = SIMD4<Float>(repeating: 7.905_311_1)
    var x = v.replacing(with: limit, where: v .> limit)
    x.replace(with: -limit, where: x .< -limit)
    let x2 = x * x
    var p = SIMD4<Float>(repeating: -2.760_768_5e-16)
    p = p * x2 + 2.000_187_9e-13
    p = p * x2 - 8.604_671_5e-11
    p = p * x2 + 5.122_297_1e-08
    p = p * x2 + 1.485_722_4e-05
    p = p * x2 + 6.372_619_3e-04
    p = p * x2 + 4.893_524_6e-03
    p = p * x
    var q = SIMD4<Float>(repeating: 1.198_258_4e-06)
    q = q * x2 + 1.185_347_1e-04
    q = q * x2 + 2.268_434_6e-03
    q = q * x2 + 4.893_525_2e-03
    return p / q
}

/// One LSTM cell update from pre-activations `gates` [4H] (i, f, g, o): updates `c` and writes `h`.
/// sigmoid(x) = (1 + tanh(x/2)) / 2.
@inline(__always)
func lstmCell(
    _ gates: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
    _ hidden: Int
) {
    var j = 0
    let raw = UnsafeMutableRawPointer(gates)
    let craw = UnsafeMutableRawPointer(c)
    let hraw = UnsafeMutableRawPointer(h)
    let stride = MemoryLayout<Float>.stride
    while j + 4 <= hidden {
        let gi = raw.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Float>.self)
        let gf = raw.loadUnaligned(fromByteOffset: (hidden + j) * stride, as: SIMD4<Float>.self)
        let gg = raw.loadUnaligned(fromByteOffset: (2 * hidden + j) * stride, as: SIMD4<Float>.self)
        let go = raw.loadUnaligned(fromByteOffset: (3 * hidden + j) * stride, as: SIMD4<Float>.self)
        let i = 0.5 * fastTanh4(0.5 * gi) + 0.5
        let f = 0.5 * fastTanh4(0.5 * gf) + 0.5
        let g = fastTanh4(gg)
        let o = 0.5 * fastTanh4(0.5 * go) + 0.5
        let cell = f * craw.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Float>.self) + i * g
        craw.storeBytes(of: cell, toByteOffset: j * stride, as: SIMD4<Float>.self)
        hraw.storeBytes(of: o * fastTanh4(cell), toByteOffset: j * stride, as: SIMD4<Float>.self)
        j += 4
    }
    while j < hidden {
        let i = 0.5 * fastTanh(0.5 * gates[j]) + 0.5
        let f = 0.5 * fastTanh(0.5 * gates[hidden + j]) + 0.5
        let g = fastTanh(gates[2 * hidden + j])
        let o = 0.5 * fastTanh(0.5 * gates[3 * hidden + j]) + 0.5
        let cell = f * c[j] + i * g
        c[j] = cell
        h[j] = o * fastTanh(cell)
        j += 1
    }
}

/// One trained network of the ensemble (all but the shared word vectors and the CRF).
struct Member: @unchecked Sendable {
    let charHidden: Int
    /// Character embedding already projected through each direction's input weights plus biases:
    /// [chars, 4·charHidden].
    let charTableForward: [Float]
    let charTableBackward: [Float]
    /// Recurrent weights transposed to [charHidden, 4·charHidden], so the update vectorizes.
    let charRecurrentForward: [Float]
    let charRecurrentBackward: [Float]
    let casing: UnsafePointer<Float>
    let casingDim: Int
    let forward: LSTMWeights
    let backward: LSTMWeights
    let output: UnsafePointer<Float>
    let outputBias: UnsafePointer<Float>
    /// The member's own fine-tuned word vectors [words, wordDim] (fp16), if it has them.
    let words: UnsafePointer<Float16>?

    init(
        _ file: SafeTensorsFile, prefix p: String, chars: Int, charDim: Int, charHidden: Int, casingDim: Int,
        input: Int, hidden: Int, tags: Int, words: Int, wordDim: Int
    ) throws(NeuralModelError) {
        self.words = file.tensors["\(p)word.weight"] == nil ? nil : try file.f16("\(p)word.weight", [words, wordDim])
        self.charHidden = charHidden
        let embedding = try file.f32("\(p)char.weight", [chars, charDim])
        let charF = try LSTMWeights(file, "\(p)char_lstm", suffix: "", input: charDim, hidden: charHidden)
        let charB = try LSTMWeights(file, "\(p)char_lstm", suffix: "_reverse", input: charDim, hidden: charHidden)
        charTableForward = charF.projected(embedding, rows: chars)
        charTableBackward = charB.projected(embedding, rows: chars)
        func transposed(_ w: LSTMWeights) -> [Float] {
            var out = [Float](repeating: 0, count: 4 * charHidden * charHidden)
            for g in 0..<(4 * charHidden) {
                for j in 0..<charHidden { out[j * 4 * charHidden + g] = w.hiddenWeights[g * charHidden + j] }
            }
            return out
        }
        charRecurrentForward = transposed(charF)
        charRecurrentBackward = transposed(charB)
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
                    recurrent.withUnsafeBufferPointer { r in
                        for step in 0..<ids.count {
                            let id = Int(ids[direction == 0 ? step : ids.count - 1 - step])
                            let row = t.baseAddress! + id * g4
                            for g in 0..<g4 { gates[g] = row[g] }
                            if step > 0 {
                                for j in 0..<hsz {
                                    let hj = h[j]
                                    let w = r.baseAddress! + j * g4
                                    for g in 0..<g4 { gates[g] += w[g] * hj }
                                }
                            }
                            lstmCell(gates, c, h, hsz)
                        }
                    }
                }
                for j in 0..<hsz { out[direction * hsz + j] = h[j] }
            }
        }
    }
}
