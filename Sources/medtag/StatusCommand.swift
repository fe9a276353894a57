import ArgumentParser
import Foundation
import MedtagSpool

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many files wait in each spool folder, how far the inputs in work are, which daemons run, and the last errors.")

    @OptionGroup var spoolOptions: SpoolOptions

    @Option(help: "How many recent errors to show.")
    var errors: Int = 5

    func run() throws {
        let (configuration, _) = try spoolOptions.load()
        // A mistyped --spool must not look like an empty, idle spool.
        for folder in [configuration.spool, SpoolLayout(root: configuration.spool).inbox] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.string, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationFailure(
                    folder == configuration.spool
                        ? "\(folder): No such file or directory (no spool there)"
                        : "\(configuration.spool): not a medtag spool (it has no inbox/)")
            }
        }
        let status = SpoolStatus.gather(root: configuration.spool, lastErrorCount: errors)
        print(status.render(root: configuration.spool), terminator: "")
    }
}
