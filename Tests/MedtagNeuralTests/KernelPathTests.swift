import CKernels
import Foundation
import Testing

@testable import MedtagNeural
import MedtagTestSupport

/// OpenBLAS picks its kernels once, when loaded, so each kernel path is checked in its own process:
/// `medtag model verify` runs the engine over the model's PyTorch reference sentences.
@Suite struct KernelPathTests {
    /// Without any setting, the engine runs on the best kernels the CPU supports, chosen from its features.
    @Test func chosenFromTheCPUsFeatures() throws {
        let backend = try BLASBackend.shared()
        let best = try #require(BLASBackend.runnableCoreTypes.first)
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            #expect(backend.core == best, "\(backend)")
            #expect(backend.choice == (best == "Prescott" ? .library : .cpuFeatures))
        }
        #expect(backend.description == "blas=openblas core=\(backend.core) lstm=\(backend.recurrent)")
        // The recurrent step runs the instruction set of the OpenBLAS kernels.
        let expected = ["SkylakeX": "avx512", "Haswell": "avx2", "Prescott": "portable"][backend.core]
        if let expected { #expect(backend.recurrent == expected) }
    }

    @Test(arguments: ["es-pharmaconer-bilstm-crf", "en-biomed-bilstm-crf"])
    func everyKernelPathMatchesPyTorch(_ model: String) throws {
        let directory = Paths.packageRoot.appendingPathComponent("Models/\(model)").path
        // Unset: medtag chooses; then each core type this CPU can run, as a user would force it.
        let settings: [String?] = [nil] + BLASBackend.runnableCoreTypes
        for core in settings {
            let result = try run(
                Paths.medtag, ["model", "verify", directory], environment: ["OPENBLAS_CORETYPE": core ?? ""])
            #expect(result.status == 0, "core \(core ?? "chosen"): \(result.err)")
            #expect(result.out.contains("engine matches PyTorch"), "core \(core ?? "chosen"): \(result.out)")
            let expected = core ?? BLASBackend.runnableCoreTypes[0]
            #expect(result.out.contains("blas=openblas core=\(expected) "), "core \(core ?? "chosen"): \(result.out)")
        }
    }
}

/// medtag's own kernels against plain loops, on every code path the CPU runs, at shapes that leave
/// partial tiles (rows not a multiple of 8 or 4, columns not a multiple of 16).
@Suite struct OwnKernelTests {
    static var paths: [Int32] {
        let features = medtag_cpu_features()
        var paths: [Int32] = [0]
        if features & Int32(MEDTAG_CPU_AVX2_FMA) != 0 { paths.append(1) }
        if features & Int32(MEDTAG_CPU_AVX512) != 0 { paths.append(2) }
        return paths
    }

    @Test func packedProductMatchesPlainLoops() {
        var generator = SystemRandomNumberGenerator()
        for (m, n, k) in [(1, 400, 100), (13, 37, 25), (32, 400, 100), (9, 16, 3), (5, 17, 1)] {
            let lda = k + 3
            let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &generator) }
            let start = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &generator) }
            var packed = [Float](repeating: .nan, count: medtag_packed_count(Int32(n), Int32(k)))
            medtag_pack(b, Int32(n), Int32(k), Int32(k), &packed)
            for accumulate in [false, true] {
                var expected = accumulate ? start : [Float](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Double = 0
                        for kk in 0..<k { sum += Double(a[i * lda + kk]) * Double(b[j * k + kk]) }
                        expected[i * n + j] += Float(sum)
                    }
                }
                for path in Self.paths {
                    var c = start
                    medtag_gemm_packed(Int32(m), Int32(n), Int32(k), a, Int32(lda), packed, &c, Int32(n), accumulate ? 1 : 0, path)
                    let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst < 1e-4, "m \(m) n \(n) k \(k) accumulate \(accumulate) path \(path): max |Δ| \(worst)")
                }
            }
        }
    }

    @Test func lstmCellMatchesTheSwiftCell() {
        var generator = SystemRandomNumberGenerator()
        for hidden in [1, 7, 16, 25, 100] {
            let gates = (0..<(4 * hidden)).map { _ in Float.random(in: -12...12, using: &generator) }
            let input = (0..<(4 * hidden)).map { _ in Float.random(in: -2...2, using: &generator) }
            let bias = (0..<(4 * hidden)).map { _ in Float.random(in: -1...1, using: &generator) }
            let c0 = (0..<hidden).map { _ in Float.random(in: -3...3, using: &generator) }
            var expectedGates = zip(gates, zip(input, bias)).map { $0 + $1.0 + $1.1 }
            var expectedC = c0
            var expectedH = [Float](repeating: 0, count: hidden)
            lstmCell(&expectedGates, &expectedC, &expectedH, hidden)
            for path in Self.paths {
                var g = gates, c = c0, h = [Float](repeating: .nan, count: hidden)
                medtag_lstm_cell(&g, input, bias, &c, &h, Int32(hidden), path)
                let worst = max(
                    zip(c, expectedC).map { abs($0 - $1) }.max() ?? 0, zip(h, expectedH).map { abs($0 - $1) }.max() ?? 0)
                #expect(worst < 1e-5, "hidden \(hidden) path \(path): max |Δ| \(worst)")
            }
        }
    }
}
