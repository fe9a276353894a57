import Foundation

/// Runs a command and returns its exit status, standard output and standard error.
@discardableResult
public func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, out: String, err: String
) {
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

/// A new, empty folder under the system's temporary folder; remove it with
/// ``removeTemporaryDirectory(_:)`` in a `defer`.
public func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Removes a folder made by ``temporaryDirectory(_:)``, and everything in it.
public func removeTemporaryDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// Builds an archive with Python's standard library, which can write hostile members on purpose:
/// `script` writes to `out` with `io`, `tarfile` and `zipfile` imported.
public func makeArchive(_ path: URL, script: String, arguments: [String] = []) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import io, tarfile, zipfile, sys\nout = sys.argv[1]\n" + script, path.path] + arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("python3 could not write \(path.lastPathComponent)") }
}
