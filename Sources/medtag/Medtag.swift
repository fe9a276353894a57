import ArgumentParser

@main
struct Medtag: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "medtag",
        abstract: "Find drugs, compounds and proteins in clinical text and link them to SNOMED-CT.",
        discussion: """
            medtag works offline. `annotate` runs the pipeline once over files or folders; the other
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
}
