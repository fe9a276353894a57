import Foundation

/// Floating-point work of a model and the machine's arithmetic limit, so a benchmark can say how
/// close the engine comes to what the hardware allows.
public struct ArithmeticFigures: Codable, Sendable {
    /// Floating-point operations (a multiply-add counts two) per token: every member's character
    /// Bi-LSTM steps, word Bi-LSTM and output layer, and the contextual language models if any.
    public var flopsPerToken: Double
    /// Cores × clock × FMA lanes × 2 × FMA units, in GFLOP/s (fp32).
    public var peakGflops: Double
    public var cores: Int
    public var clockGHz: Double
    /// fp32 lanes of the widest FMA the engine's BLAS uses (16 for AVX-512, 8 for AVX2).
    public var fmaLanes: Int
    /// FMA units per core assumed (2 on server cores with AVX2 or AVX-512; cpuid does not tell).
    public var fmaUnits: Int
    /// The CPU's model name, as the kernel reports it.
    public var cpuModel: String
    /// The word Bi-LSTM's two products at batch 32 (input projection of a batch of tokens through
    /// OpenBLAS, one recurrent step through medtag's packed product), as the engine runs them,
    /// measured alone on one core: GFLOP/s and fraction of one core's peak.
    public var wordProductGflops: Double
    public var wordProductFractionOfCorePeak: Double
}

extension NeuralModel {
    /// Floating-point operations per token for tokens of `averageCharacters` characters.
    public func flopsPerToken(averageCharacters: Double) -> Double {
        let d = dimensions
        let h = Double(d.hidden), input = Double(inputSize), tags = Double(tagCount), ch = Double(d.charHidden)
        // Per direction and token: input projection 2·4H·input, recurrent step 2·4H·H.
        let word = 2 * (2 * 4 * h * input + 2 * 4 * h * h)
        let output = 2 * 2 * h * tags
        // The character embedding is projected once at load; each character costs a recurrent step.
        let chars = 2 * (2 * 4 * ch * ch) * averageCharacters
        var flops = Double(members.count) * (word + output + chars)
        if let lm = d.charLMHidden {
            // Forward and backward, a step per character plus the separating space.
            let l = Double(lm)
            flops += 2 * (2 * 4 * l * l) * (averageCharacters + 1)
        }
        return flops
    }

    /// Times the word Bi-LSTM's products on one thread, on the code paths the engine uses: GFLOP/s.
    func wordProductGflops(batch: Int = 32, seconds budget: Double = 0.3) -> Double {
        let g4 = 4 * dimensions.hidden, input = inputSize, h = dimensions.hidden
        let x = [Float](repeating: 0.01, count: batch * input)
        let hs = [Float](repeating: 0.01, count: batch * h)
        var out = [Float](repeating: 0, count: batch * g4)
        let member = members[0]
        let clock = ContinuousClock()
        var iterations = 0
        let start = clock.now
        var elapsed = 0.0
        x.withUnsafeBufferPointer { xb in
            hs.withUnsafeBufferPointer { hb in
                out.withUnsafeMutableBufferPointer { ob in
                    while elapsed < budget {
                        for _ in 0..<100 {
                            gemmABt(batch, g4, input, xb.baseAddress!, input, member.forward.inputWeights, input, ob.baseAddress!, g4)
                            member.forward.recurrentStep(batch, hb.baseAddress!, ob.baseAddress!)
                        }
                        iterations += 100
                        elapsed = NeuralBenchmark.seconds(clock.now - start)
                    }
                }
            }
        }
        let flops = Double(iterations) * 2 * Double(batch * g4) * Double(input + h)
        return flops / elapsed / 1e9
    }
}

enum MachineDescription {
    /// Model name and clock (GHz) of the first CPU in /proc/cpuinfo.
    static func cpu() -> (model: String, clockGHz: Double) {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return ("unknown", 0) }
        var model = "unknown", mhz = 0.0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name", model == "unknown" { model = parts[1] }
            if parts[0] == "cpu MHz", mhz == 0 { mhz = Double(parts[1]) ?? 0 }
            if model != "unknown", mhz > 0 { break }
        }
        // A "@ 2.10GHz" in the model name is the nominal clock; prefer it to the momentary one.
        if let at = model.range(of: "@ "), let ghz = Double(model[at.upperBound...].replacingOccurrences(of: "GHz", with: "")) {
            return (model, ghz)
        }
        return (model, mhz / 1000)
    }

    static func figures(model: NeuralModel, averageCharacters: Double, backend: BLASBackend) -> ArithmeticFigures {
        let (name, ghz) = cpu()
        // The instruction set of the kernels in use, as the loader decided it from the core and the CPU.
        let lanes = ["avx512": 16, "avx2": 8][backend.recurrent] ?? 4
        let units = 2
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let corePeak = ghz * Double(lanes * 2 * units)
        let product = model.wordProductGflops()
        return ArithmeticFigures(
            flopsPerToken: model.flopsPerToken(averageCharacters: averageCharacters),
            peakGflops: corePeak * Double(cores), cores: cores, clockGHz: ghz, fmaLanes: lanes, fmaUnits: units,
            cpuModel: name, wordProductGflops: product,
            wordProductFractionOfCorePeak: corePeak > 0 ? product / corePeak : 0)
    }
}
