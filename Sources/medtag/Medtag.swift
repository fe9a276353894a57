import ArgumentParser
import Foundation
import MedtagIngest

@main
struct Medtag: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "medtag",
        abstract: "Find drugs, compounds and proteins in clinical text and link them to SNOMED-CT.",
        discussion: """
            medtag works offline. `annotate` runs the pipeline once over files or folders; the other \
            commands prepare data and models.
            """,
        version: version,
        subcommands: [
            AnnotateCommand.self,
            ConvertCommand.self,
            TokenizeCommand.self,
            ModelCommand.self,
            EvaluateCommand.self,
            MergeCommand.self,
            TagCoNLLCommand.self,
            LexiconCommand.self,
            ServeCommand.self,
            StatusCommand.self,
            IngestCommand.self,
            BenchCommand.self,
        ]
    )

    /// Runs the command; an error about a file is printed as `medtag: PATH: reason`, as a shell
    /// tool prints it, instead of Foundation's description.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let message = userMessage(error) {
                warn(message)
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// The message a user acts on for errors that carry a file and a reason, nil for others.
func userMessage(_ error: any Error) -> String? {
    if let failure = error as? ValidationFailure { return failure.description }
    if let failure = error as? TextFileError { return failure.description }
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain else { return nil }
    guard let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path else { return nil }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return "\(path): \(String(cString: strerror(Int32(underlying.code))))"
    }
    switch CocoaError.Code(rawValue: ns.code) {
    case .fileNoSuchFile, .fileReadNoSuchFile: return "\(path): No such file or directory"
    case .fileReadNoPermission, .fileWriteNoPermission: return "\(path): Permission denied"
    default: return nil
    }
}
