import ArgumentParser
import MedtagSpool

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many files wait in each spool folder, which daemons run, and the last errors.")

    @OptionGroup var spoolOptions: SpoolOptions

    @Option(help: "How many recent errors to show.")
    var errors: Int = 5

    func run() throws {
        let (configuration, _) = try spoolOptions.load()
        let status = SpoolStatus.gather(root: configuration.spool, lastErrorCount: errors)
        print(status.render(root: configuration.spool), terminator: "")
    }
}
