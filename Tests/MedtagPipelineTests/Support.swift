import Foundation

/// Where the package and the shared corpora are, seen from the tests.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `$MEDTAG_CORPORA`, else `../shared/corpora` beside the package.
    static let corpora: URL = {
        if let env = ProcessInfo.processInfo.environment["MEDTAG_CORPORA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
    }()

    static let pharmaconer = corpora.appendingPathComponent("pharmaconer")
    static var hasPharmaconer: Bool { FileManager.default.fileExists(atPath: pharmaconer.appendingPathComponent("train").path) }

    /// The `medtag` executable built by `swift build` (debug).
    static let medtag = packageRoot.appendingPathComponent(".build/debug/medtag")
}

/// Runs a command and returns its exit status, standard output and standard error.
@discardableResult
func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
