import ArgumentParser
import Foundation
import MedtagIngest
import MedtagModel
import MedtagText
import SystemPackage

/// The model and lexicon of each language for what the command line or the configuration names;
/// the one place the process environment (`MEDTAG_MODELS`, `MEDTAG_MODEL`, `MEDTAG_LEXICON`, …) is read for them.
func modelCatalog(_ choices: ModelCatalog.Choices = ModelCatalog.Choices()) throws(ModelError) -> ModelCatalog {
    try ModelCatalog.resolve(choices, environment: ProcessInfo.processInfo.environment)
}

/// The model a command that runs one model uses, with its lexicon: `--model` (a folder or a name
/// under Models/), else the model of `language` (``ModelCatalog/singleModel(for:)``).
func singleModel(_ model: String?, language: Language = .primary) throws(ModelError) -> ModelCatalog.Entry {
    try modelCatalog(ModelCatalog.Choices(model: model)).singleModel(for: language)
}

/// Prints to standard error.
func warn(_ message: String) {
    ProgressLine.clearActive()
    FileHandle.standardError.write(Data("medtag: \(message)\n".utf8))
}

/// Input files: each argument is a file, or a folder searched recursively for `extensions`
/// (``InputPaths/collect(_:extensions:alsoAccept:)``); a missing one is reported as
/// ``missingPath(_:)`` words it.
func collectInputs(
    _ paths: [String], extensions: Set<String>, alsoAccept: (String) -> Bool = { _ in false }
) throws -> [(path: FilePath, baseName: String, input: String)] {
    do { return try InputPaths.collect(paths, extensions: extensions, alsoAccept: alsoAccept) } catch { throw missingPath(error.path) }
}

extension FilePath {
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

/// `--postprocess`: which document steps run after the tagger, in place of the model's.
struct DocumentStepsOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Document steps to run after the tagger, comma-separated, in order (\(ModelManifest.knownPostprocess.joined(separator: ", "))).",
            discussion: "`model`: the steps the model's manifest lists (the default); `none`: none."))
    var postprocess: String?

    /// The steps asked for; nil when the option was not given or is `model` (the manifest's steps).
    func components() throws -> [any DocumentComponent]? {
        let names: [String]
        switch postprocess?.trimmingCharacters(in: .whitespaces) {
        case nil, "model": return nil
        case "none": names = []
        case let list?: names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return try names.map { name in
            guard let step = ModelManifest.postprocessComponent(named: name) else {
                throw ValidationError(
                    "unknown document step '\(name)' in --postprocess; known: \((ModelManifest.knownPostprocess + ["model", "none"]).joined(separator: ", "))")
            }
            return step
        }
    }
}
