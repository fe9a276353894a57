import Foundation
import MedtagModel
import MedtagTagging
import MedtagText

/// Finds the shipped models.
public enum ModelLocator {
    /// Preferred models, best first; the first one installed is the default.
    public static let preferred = ["es-pharmaconer-bilstm-crf", "es-pharmaconer-gazetteer"]

    /// Preferred English models, best first.
    public static let preferredEnglish = ["en-biomed-bilstm-crf"]

    /// Preferred models for a language (ISO 639-1 code), best first; none for other languages.
    public static func preferred(language: String) -> [String] {
        switch language {
        case "es": preferred
        case "en": preferredEnglish
        default: []
        }
    }

    /// The environment variable naming the default model of a language: `MEDTAG_MODEL` for Spanish,
    /// `MEDTAG_MODEL_EN` for English.
    public static func environmentVariable(language: String) -> String {
        language == "es" ? "MEDTAG_MODEL" : "MEDTAG_MODEL_\(language.uppercased())"
    }

    /// The `Models` folder: `$MEDTAG_MODELS`, else `../share/medtag/Models` beside the executable's
    /// folder (an installed medtag: `PREFIX/bin/medtag` finds `PREFIX/share/medtag/Models`), else the
    /// nearest `Models/` above the executable or the working directory (a checkout), else
    /// `/usr/share/medtag/Models` or `/usr/local/share/medtag/Models`.
    public static func modelsRoot() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["MEDTAG_MODELS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let executableFolder = executableURL().deletingLastPathComponent()
        let installed = executableFolder.deletingLastPathComponent().appendingPathComponent("share/medtag/Models")
        if containsAModel(installed) { return installed.standardizedFileURL }
        let starts = [executableFolder, URL(fileURLWithPath: fm.currentDirectoryPath)]
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("Models")
                if containsAModel(candidate) { return candidate }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        for system in ["/usr/share/medtag/Models", "/usr/local/share/medtag/Models"] where fm.fileExists(atPath: system) {
            return URL(fileURLWithPath: system)
        }
        return nil
    }

    /// True when `folder` holds one of the preferred models.
    private static func containsAModel(_ folder: URL) -> Bool {
        (preferred + preferredEnglish).contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    /// The running executable, links resolved: `/proc/self/exe` where there is one (a medtag found
    /// through `PATH` has a bare name in `argv[0]`), else `argv[0]`.
    private static func executableURL() -> URL {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: target)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }

    /// The default model directory: `$MEDTAG_MODEL`, else the first of ``preferred`` installed.
    public static func defaultModelDirectory() throws(ModelError) -> URL {
        try defaultModelDirectory(language: "es")
    }

    /// The default model of a language: its environment variable (``environmentVariable(language:)``),
    /// else the first of ``preferred(language:)`` installed.
    public static func defaultModelDirectory(language: String) throws(ModelError) -> URL {
        if let env = ProcessInfo.processInfo.environment[environmentVariable(language: language)], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let preferred = preferred(language: language)
        guard !preferred.isEmpty else { throw ModelError(path: "Models", reason: "medtag has no model for language '\(language)'") }
        guard let root = modelsRoot() else {
            throw ModelError(
                path: "Models", reason: "no Models folder found near the executable or here; pass --model DIR or set MEDTAG_MODELS")
        }
        for name in preferred {
            let dir = root.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) { return dir }
        }
        throw ModelError(path: root.path, reason: "none of \(preferred.joined(separator: ", ")) is installed here")
    }

    /// Reads a directory's manifest.
    public static func manifest(in directory: URL) throws(ModelError) -> ModelManifest {
        try ModelManifest.read(directory: directory.path)
    }
}
