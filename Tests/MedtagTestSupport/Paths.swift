import Foundation

/// Where the package, the shared corpora and the `medtag` binary are, seen from the tests.
public enum Paths {
    /// The package root, found from this file's path.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The corpora: `$MEDTAG_CORPORA`, else `../shared/corpora` beside the package.
    public static let corpora: URL = {
        if let env = ProcessInfo.processInfo.environment["MEDTAG_CORPORA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
    }()

    /// The models shipped with the package.
    public static let models = packageRoot.appendingPathComponent("Models")
    /// The gazetteer model, cheap to load and run: the tests' model unless they need another.
    public static let gazetteerModel = models.appendingPathComponent("es-pharmaconer-gazetteer")

    /// The PharmaCoNER corpus (train, dev, gazetteer) under ``corpora``.
    public static let pharmaconer = corpora.appendingPathComponent("pharmaconer")
    /// Whether ``pharmaconer`` holds the corpus: tests that need it are skipped, with the reason, without it.
    public static var hasPharmaconer: Bool { FileManager.default.fileExists(atPath: pharmaconer.appendingPathComponent("train").path) }

    /// The `medtag` binary the tests run (see ``medtagBinary()``); where `swift build` puts it when
    /// it is missing, so that running it fails with the path in the message.
    public static let medtag: URL = (try? medtagBinary()) ?? packageRoot.appendingPathComponent(".build/debug/medtag")
}

/// The built `medtag` binary: `$MEDTAG_TEST_BINARY` (`make sanitize` and `make stress` point the
/// tests at an instrumented or release build), else the debug build. Tests that need it fail with a
/// clear message when it is missing.
public func medtagBinary() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["MEDTAG_TEST_BINARY"], !path.isEmpty {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : Paths.packageRoot.appendingPathComponent(path)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw TestFailure("MEDTAG_TEST_BINARY=\(path) is not executable") }
        return url
    }
    let candidates = [".build/debug/medtag", ".build/x86_64-unknown-linux-gnu/debug/medtag", ".build/release/medtag"]
    for candidate in candidates {
        let url = Paths.packageRoot.appendingPathComponent(candidate)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw TestFailure(
        "the medtag binary is missing (looked for \(candidates.joined(separator: ", ")) under \(Paths.packageRoot.path)); run `swift build` first")
}

/// A failure of a test's surroundings, in words.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
