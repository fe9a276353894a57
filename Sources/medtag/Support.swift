import Foundation
import MedtagModel
import SystemPackage

/// The model and lexicon of each language for what the command line or the configuration names;
/// the one place the process environment (`MEDTAG_MODELS`, `MEDTAG_MODEL`, `MEDTAG_LEXICON`, …) is read for them.
func modelCatalog(_ choices: ModelCatalog.Choices = ModelCatalog.Choices()) throws(ModelError) -> ModelCatalog {
    try ModelCatalog.resolve(choices, environment: ProcessInfo.processInfo.environment)
}

/// The model a command that runs one model uses, with its lexicon: `--model` (a folder or a name
/// under Models/), else the model of `language` (its variable, `MEDTAG_MODEL` for Spanish, else
/// its best model installed).
func singleModel(_ model: String?, language: Language = .primary) throws(ModelError) -> ModelCatalog.Entry {
    let catalog = try modelCatalog(ModelCatalog.Choices(model: model))
    return catalog.chosen ?? catalog.entry(for: language)
}

/// Prints to standard error.
func warn(_ message: String) {
    ProgressLine.clearActive()
    FileHandle.standardError.write(Data("medtag: \(message)\n".utf8))
}

/// Input files: each argument is a file, or a folder searched recursively for `extensions`.
/// Returns each file with the name its outputs take (the path inside the folder, no extension) and
/// the name of the argument it was found through (`input`: the file's or the folder's name).
///
/// Names are handled as ``FilePath``s, whatever they hold (one character, dots, spaces, non-ASCII).
func collectInputs(
    _ paths: [String], extensions: Set<String>, alsoAccept: (String) -> Bool = { _ in false }
) throws -> [(path: FilePath, baseName: String, input: String)] {
    var inputs: [(FilePath, String, String)] = []
    let fm = FileManager.default
    for path in paths {
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw missingPath(path) }
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
                inputs.append((argument.pushing(relative), relative.removingExtension.string, input))
            }
        } else {
            inputs.append((argument, argument.lastComponent?.stem ?? path, input))
        }
    }
    return inputs
}

extension FilePath {
    /// The path without the extension of its last component: `a/n.txt` → `a/n`, `n` → `n`.
    var removingExtension: FilePath {
        var path = self
        path.extension = nil
        return path
    }

    /// The last component's name (`n.txt`), empty for a root.
    var fileName: String { lastComponent?.string ?? "" }
}

/// The error for a path given on the command line that does not exist, worded as every command
/// reports it: `medtag: PATH: No such file or directory`.
func missingPath(_ path: String) -> ValidationFailure {
    ValidationFailure("\(path): No such file or directory")
}

/// Checks, before a command does anything, that every path it was given to read exists (nil: an
/// option not given); the first that does not is reported as ``missingPath(_:)`` words it.
func requireExisting(_ paths: [String?]) throws {
    for case let path? in paths where !FileManager.default.fileExists(atPath: path) { throw missingPath(path) }
}

/// An error shown to the user as is.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
