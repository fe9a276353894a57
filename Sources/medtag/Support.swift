import Foundation
import MedtagFormats

/// Prints to standard error.
func warn(_ message: String) {
    ProgressLine.clearActive()
    FileHandle.standardError.write(Data("medtag: \(message)\n".utf8))
}

/// Input files: each argument is a file, or a folder searched recursively for `extensions`.
/// Returns each file with the name its outputs take (the path inside the folder, no extension) and
/// the name of the argument it was found through (`input`: the file's or the folder's name).
func collectInputs(
    _ paths: [String], extensions: Set<String>, alsoAccept: (String) -> Bool = { _ in false }
) throws -> [(url: URL, baseName: String, input: String)] {
    var inputs: [(URL, String, String)] = []
    let fm = FileManager.default
    for path in paths {
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationFailure("\(path): No such file or directory")
        }
        let url = URL(fileURLWithPath: path)
        if isDirectory.boolValue {
            guard let walker = fm.enumerator(atPath: path) else { continue }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") { continue }
                if extensions.contains((relative as NSString).pathExtension.lowercased()) || alsoAccept(name) {
                    found.append(relative)
                }
            }
            for relative in found.sorted() {
                inputs.append((url.appendingPathComponent(relative), (relative as NSString).deletingPathExtension, url.lastPathComponent))
            }
        } else {
            inputs.append((url, url.deletingPathExtension().lastPathComponent, url.lastPathComponent))
        }
    }
    return inputs
}

/// Reads an input file as text: `.xml` through the XML extractor, everything else as UTF-8.
func readDocumentText(_ url: URL) throws -> String {
    let bytes = Array(try Data(contentsOf: url))
    return url.pathExtension.lowercased() == "xml" ? try XMLText.extract(bytes) : try TextInput.decode(bytes)
}

/// An error shown to the user as is.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
