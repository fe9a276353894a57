// swift-tools-version:6.1
import PackageDescription

// The pipeline reads top to bottom: text → tagging → normalization → formats,
// assembled by MedtagPipeline, served by MedtagSpool, driven by the `medtag` CLI.
let package = Package(
    name: "medtag",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "medtag", targets: ["medtag"]),
        .library(name: "MedtagPipeline", targets: ["MedtagPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries and Linux calls, each a module map and a short header.
        .systemLibrary(name: "CInotifyTools", path: "Sources/CInotifyTools"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(
            name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),
        // CPU features, the BLAS interface (OpenBLAS itself, Debian's libopenblas0, is loaded at run
        // time once its kernels are chosen) and the recurrent step's packed product, with a code path
        // per instruction set chosen at run time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // Pure logic: no files, no daemon.
        .target(name: "MedtagText"),
        // Checksums, read-only memory-mapped files and the one atomic file writer, shared by models,
        // lexicons and every result.
        .target(
            name: "MedtagStorage",
            dependencies: ["CLinux", .product(name: "SystemPackage", package: "swift-system")],
            // Checksums of model and lexicon files run optimized in debug builds too (unoptimized
            // SHA-256 reads about 1 MB/s, which makes every debug check of a weights file crawl).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "MedtagTagging", dependencies: ["MedtagText"]),
        // The model bundle: manifest.json, the one description of a model folder; the languages, and
        // the catalog of each one's model and lexicon.
        .target(name: "MedtagModel", dependencies: ["MedtagText", "MedtagTagging", "MedtagStorage", "MedtagNormalize"]),
        .target(name: "MedtagFormats", dependencies: ["MedtagText", "MedtagTagging"]),
        .target(name: "MedtagNormalize", dependencies: ["MedtagText", "MedtagStorage"]),
        .target(name: "MedtagEvaluation", dependencies: ["MedtagFormats"]),
        // Inference over memory-mapped weights.
        .target(
            name: "MedtagNeural", dependencies: ["MedtagText", "MedtagTagging", "MedtagModel", "MedtagStorage", "CKernels"],
            // The forward pass is optimized in debug builds too: unoptimized it is ~20× slower,
            // which makes every debug run of the pipeline crawl.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Assembly: loads a model directory and runs tokenizer → tagger → normalizer → writers.
        .target(
            name: "MedtagPipeline",
            dependencies: [
                "MedtagText", "MedtagTagging", "MedtagModel", "MedtagFormats", "MedtagNormalize", "MedtagNeural",
                "MedtagStorage", "MedtagIngest", .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // Reading inputs: files and archives (recursively, within limits) as a stream of documents, their
        // bytes decoded as UTF-8 text or XML, for the daemon, `medtag ingest` and `medtag annotate` alike.
        .target(
            name: "MedtagIngest",
            dependencies: [
                "MedtagText", "MedtagFormats", "CArchive", .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The daemon: spool, watcher, service.
        .target(
            name: "MedtagSpool",
            dependencies: [
                "MedtagPipeline", "MedtagIngest", "MedtagFormats", "MedtagStorage", "MedtagNeural", "MedtagModel",
                "CInotifyTools",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "medtag",
            dependencies: [
                "MedtagPipeline", "MedtagIngest", "MedtagSpool", "MedtagEvaluation", "MedtagFormats", "MedtagNormalize",
                "MedtagTagging", "MedtagModel", "MedtagStorage", "MedtagNeural", "MedtagText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),

        // Shared by the test targets: the package's paths, the `medtag` binary, temporary spools, and
        // `medtag annotate`'s run made in the test process.
        .target(
            name: "MedtagTestSupport", dependencies: ["MedtagPipeline", "MedtagFormats", "MedtagModel", "MedtagTagging"],
            path: "Tests/MedtagTestSupport"),
        .testTarget(name: "MedtagTextTests", dependencies: ["MedtagText"]),
        .testTarget(name: "MedtagStorageTests", dependencies: ["MedtagStorage", "MedtagTestSupport"]),
        .testTarget(name: "MedtagTaggingTests", dependencies: ["MedtagTagging", "MedtagText"]),
        .testTarget(name: "MedtagFormatsTests", dependencies: ["MedtagFormats", "MedtagTagging", "MedtagText"]),
        .testTarget(name: "MedtagNormalizeTests", dependencies: ["MedtagNormalize", "MedtagFormats", "MedtagText", "MedtagTestSupport"]),
        .testTarget(
            name: "MedtagNeuralTests", dependencies: ["MedtagNeural", "MedtagTagging", "MedtagPipeline", "CKernels", "MedtagTestSupport"]),
        .testTarget(name: "MedtagEvaluationTests", dependencies: ["MedtagEvaluation"]),
        .testTarget(
            name: "MedtagIngestTests",
            dependencies: ["MedtagIngest", "MedtagTestSupport", .product(name: "SystemPackage", package: "swift-system")]),
        .testTarget(
            name: "MedtagSpoolTests",
            dependencies: [
                "MedtagSpool", "MedtagPipeline", "MedtagNeural", "MedtagFormats", "MedtagModel", "MedtagTestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "MedtagPipelineTests",
            dependencies: [
                "MedtagPipeline", "MedtagIngest", "MedtagFormats", "MedtagTagging", "MedtagModel",
                "MedtagText", "MedtagTestSupport", .product(name: "SystemPackage", package: "swift-system"),
            ]),
    ]
)

// Strictness in one place: Swift 6 mode everywhere, warnings are errors.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.unsafeFlags(["-warnings-as-errors"]))
    target.swiftSettings = settings
}
