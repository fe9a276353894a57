import ArgumentParser
import Foundation
import MedtagPipeline

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of a batch run (OUT/shard-K-of-N/) into one result set in OUT.",
        discussion: """
            Checks that every shard 0..N-1 is present, complete, and that each file matches the \
            checksum in its manifest; a missing or partial shard is reported by number and nothing is \
            written (re-run that shard: it replaces its folder). Then writes each document's files, one \
            combined CSV (medtag-all.csv, header once), one subtrack-2 TSV (tables/medtag-all.tsv) and a \
            summary (medtag-summary.json) into OUT.
            """)

    @Argument(help: "The output folder the shards were written to.")
    var out: String

    @Option(help: "Number of shards expected (default: as the folder names say).")
    var shards: Int?

    func run() throws {
        try requireExisting([out])
        do {
            let summary = try ShardMerge.merge(URL(fileURLWithPath: out), expected: shards)
            let languages = summary.languages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print(
                "merged \(summary.shards) shards: \(summary.documents) documents\(languages.isEmpty ? "" : " (\(languages))"), "
                    + "\(summary.entities) entities, "
                    + "\(summary.failures.count) failures → \(out)")
            for failure in summary.failures { warn("failed: \(failure.key): \(failure.reason)") }
        } catch let error as ShardError {
            warn("cannot merge \(out):\n\(error.description)")
            throw ExitCode(1)
        }
    }
}
