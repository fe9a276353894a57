import CKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The BLAS the engine multiplies with: OpenBLAS, loaded at first use on the best kernels the CPU
/// supports.
///
/// OpenBLAS picks its kernels once, when the library is loaded, from `OPENBLAS_CORETYPE` or from a
/// table of processor models; a processor newer than that table gets its oldest (SSE3) kernels.
/// medtag therefore loads it itself: when the user has not set `OPENBLAS_CORETYPE`, the core type
/// comes from the CPU's features (AVX-512 → `SkylakeX`, AVX2 with FMA → `Haswell`), and only a CPU
/// with neither is left to OpenBLAS's own detection.
public struct BLASBackend: Sendable, CustomStringConvertible {
    /// How the kernels were chosen.
    public enum Choice: String, Sendable {
        /// From the CPU's features (cpuid).
        case cpuFeatures = "cpu-features"
        /// `OPENBLAS_CORETYPE`, set by the user.
        case environment = "OPENBLAS_CORETYPE"
        /// OpenBLAS's own detection (a CPU without AVX2).
        case library = "openblas-detection"
    }

    /// The library file that was loaded.
    public let library: String
    /// The kernels OpenBLAS runs, as it names them (`SkylakeX`, `Haswell`, `Prescott`, …).
    public let core: String
    /// How ``core`` was chosen.
    public let choice: Choice
    /// The core type medtag asked for, nil when it left the choice to the user or to OpenBLAS.
    public let requested: String?
    /// What the CPU supports: `avx512`, `avx2`, or `baseline`.
    public let cpu: String
    /// The code path of medtag's own product for the LSTMs' recurrent step (`avx512`, `avx2`,
    /// `portable`): the instruction set of the OpenBLAS kernels in use, so one setting governs both.
    public let recurrent: String

    /// `blas=openblas core=SkylakeX lstm=avx512`, for log lines and benchmark reports.
    public var description: String { "blas=openblas core=\(core) lstm=\(recurrent)" }

    /// The loaded backend, or why none could be loaded.
    public static func shared() throws(NeuralModelError) -> BLASBackend {
        switch loaded {
        case .success(let functions): return functions.backend
        case .failure(let error): throw error
        }
    }

    /// The OpenBLAS core types this CPU can run, best first (the last, `Prescott`, runs on any x86-64).
    public static var runnableCoreTypes: [String] {
        let features = medtag_cpu_features()
        var cores: [String] = []
        if features & Int32(MEDTAG_CPU_AVX512) != 0 { cores.append("SkylakeX") }
        if features & Int32(MEDTAG_CPU_AVX2_FMA) != 0 { cores.append("Haswell") }
        #if arch(x86_64)
            cores.append("Prescott")
        #endif
        return cores
    }

    /// The OpenBLAS core type for a CPU with `features` (MEDTAG_CPU_* bits), nil to let OpenBLAS decide.
    static func coreType(features: Int32) -> String? {
        if features & Int32(MEDTAG_CPU_AVX512) != 0 { return "SkylakeX" }
        if features & Int32(MEDTAG_CPU_AVX2_FMA) != 0 { return "Haswell" }
        return nil
    }

    static func cpuName(features: Int32) -> String {
        if features & Int32(MEDTAG_CPU_AVX512) != 0 { return "avx512" }
        if features & Int32(MEDTAG_CPU_AVX2_FMA) != 0 { return "avx2" }
        return "baseline"
    }
}

/// The routines the engine calls, resolved from the loaded library.
struct BLASFunctions: @unchecked Sendable {
    let sgemm: medtag_sgemm_fn
    let backend: BLASBackend
    /// Argument of medtag_gemm_packed: 2 AVX-512, 1 AVX2, 0 portable.
    let recurrentPath: Int32
}

/// Loaded once, at first use.
let loaded: Result<BLASFunctions, NeuralModelError> = loadOpenBLAS()

/// The sgemm of the loaded library; only called after a model has loaded, which needs the library.
var blasSgemm: medtag_sgemm_fn {
    switch loaded {
    case .success(let functions): return functions.sgemm
    case .failure(let error): fatalError("\(error)")
    }
}

/// The code path of the recurrent step's product (see ``BLASBackend/recurrent``).
var recurrentPath: Int32 {
    switch loaded {
    case .success(let functions): return functions.recurrentPath
    case .failure: return 0
    }
}

private func loadOpenBLAS() -> Result<BLASFunctions, NeuralModelError> {
    let features = medtag_cpu_features()
    let userCore = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    let requested = userCore == nil ? BLASBackend.coreType(features: features) : nil
    // The engine runs one thread per BLAS call (Dispatch gives the parallelism), so OpenBLAS need
    // not start its own thread pool either. Both variables are put back once the library is in.
    let saved = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS"].map { (name: String) in
        (name, getenv(name).map { String(cString: $0) })
    }
    if let requested { setenv("OPENBLAS_CORETYPE", requested, 1) }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    var handle: UnsafeMutableRawPointer?
    var library = ""
    var reasons: [String] = []
    for name in ["libopenblas.so.0", "libopenblas.so"] {
        if let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
            handle = h
            library = name
            break
        }
        reasons.append(dlerror().map { String(cString: $0) } ?? name)
    }
    for (name, value) in saved {
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    guard let handle else {
        return .failure(
            .blasUnavailable(reason: "cannot load OpenBLAS (\(reasons.joined(separator: "; "))); install libopenblas0"))
    }
    func symbol<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: type) }
    }
    guard let sgemm = symbol("cblas_sgemm", as: medtag_sgemm_fn.self) else {
        return .failure(.blasUnavailable(reason: "\(library) has no cblas_sgemm"))
    }
    symbol("openblas_set_num_threads", as: medtag_set_threads_fn.self)?(1)
    let core = symbol("openblas_get_corename", as: medtag_corename_fn.self)?().map { String(cString: $0) } ?? "unknown"
    let choice: BLASBackend.Choice = userCore != nil ? .environment : requested != nil ? .cpuFeatures : .library
    // The instruction set of the OpenBLAS core, capped by what the CPU runs.
    let avx512Cores = ["SkylakeX", "Cooperlake", "SapphireRapids"]
    let avx2Cores = ["Haswell", "Zen"]
    var path: Int32 = avx512Cores.contains(where: core.hasPrefix) ? 2 : avx2Cores.contains(where: core.hasPrefix) ? 1 : 0
    if features & Int32(MEDTAG_CPU_AVX512) == 0 { path = min(path, 1) }
    if features & Int32(MEDTAG_CPU_AVX2_FMA) == 0 { path = 0 }
    let backend = BLASBackend(
        library: library, core: core, choice: choice, requested: requested, cpu: BLASBackend.cpuName(features: features),
        recurrent: ["portable", "avx2", "avx512"][Int(path)])
    return .success(BLASFunctions(sgemm: sgemm, backend: backend, recurrentPath: path))
}
