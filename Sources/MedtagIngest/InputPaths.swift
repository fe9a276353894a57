import Foundation
import SystemPackage

/// A path given to read that does not exist, worded as every command reports it:
/// `PATH: No such file or directory`.
public struct MissingInputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public init(path: String) { self.path = path }
    public var description: String { "\(path): No such file or directory" }
}

/// Input files named by paths as a user gives them: files, and folders searched recursively.
public enum InputPaths {
    /// An input file: where it is, the name its outputs take (the path inside the folder, no
    /// extension) and the name of the argument it was found through (the file's or the folder's name).
    public typealias Found = (path: FilePath, baseName: String, input: String)

    /// Each argument is a file, or a folder searched recursively for `extensions` (and names
    /// `alsoAccept` takes), in name order, hidden names skipped. Throws ``MissingInputError`` for
    /// the first path that does not exist.
    ///
    /// Names are handled as ``FilePath``s, whatever they hold (one character, dots, spaces, non-ASCII).
    public static func collect(
        _ paths: [String], extensions: Set<String>, alsoAccept: (String) -> Bool = { _ in false }
    ) throws(MissingInputError) -> [Found] {
        var inputs: [Found] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw MissingInputError(path: path) }
            let argument = FilePath(path)
            let input = argument.lastComponent?.string ?? path
            if isDirectory.boolValue {
                guard let walker = fm.enumerator(atPath: path) else { continue }
                var found: [FilePath] = []
                while let relative = walker.nextObject() as? String {
                    let relativePath = FilePath(relative)
                    guard let name = relativePath.lastComponent, !name.string.hasPrefix(".") else { continue }
                    if extensions.contains(name.extension?.lowercased() ?? "") || alsoAccept(name.string) {
                        found.append(relativePath)
                    }
                }
                for relative in found.sorted(by: { $0.string < $1.string }) {
                    var base = relative
                    base.extension = nil
                    inputs.append((argument.pushing(relative), base.string, input))
                }
            } else {
                inputs.append((argument, argument.lastComponent?.stem ?? path, input))
            }
        }
        return inputs
    }
}
