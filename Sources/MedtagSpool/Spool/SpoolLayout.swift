#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The folders of a spool and the moves between them.
///
/// ```
/// inbox/                 users drop files here (dot-names and *.part / *.tmp are skipped)
/// work/<instance>/       files a running daemon has claimed, by atomic rename
/// tmp/<instance>/        results being written, before they are published
/// outbox/<input>/        published results, one folder per input, renamed into place in one step
/// done/                  processed inputs
/// failed/                rejected inputs, each with `<name>.error.json`
/// ```
///
/// Every daemon claims into its own `work/<instance>/` folder and holds an exclusive lock on
/// `work/<instance>/.lock` while it runs. A folder whose lock nobody holds belongs to a daemon that
/// died: its files are taken over and processed again. This is what lets several daemons share one
/// spool, and a restarted daemon find what a killed one left.
public struct SpoolLayout: Sendable {
    /// The spool folder itself.
    public let root: FilePath
    public var inbox: FilePath { root.appending("inbox") }
    public var work: FilePath { root.appending("work") }
    public var outbox: FilePath { root.appending("outbox") }
    public var done: FilePath { root.appending("done") }
    public var failed: FilePath { root.appending("failed") }
    public var tmp: FilePath { root.appending("tmp") }

    /// A spool at `root`; nothing is created until ``create()``.
    public init(root: FilePath) { self.root = root }

    /// Creates the spool folders that are missing.
    public func create() throws(SpoolError) {
        for folder in [root, inbox, work, outbox, done, failed, tmp] {
            do { try Sys.mkdirs(folder) } catch {
                throw SpoolError(stage: .spool, path: folder.string, reason: "cannot create the spool folder", errno: error)
            }
        }
    }

    /// True for names the inbox skips: dot-files and files still being written under a temporary name.
    public static func isIgnored(name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".part") || name.hasSuffix(".tmp")
    }

    /// True when any component of a relative path is ignored.
    public static func isIgnored(relativePath: String) -> Bool {
        relativePath.split(separator: "/").contains { isIgnored(name: String($0)) }
    }
}

/// A file found in the inbox by a scan.
struct InboxCandidate: Sendable {
    var relativePath: String
    /// Modification time, seconds since the epoch.
    var modified: Double
    /// Set when the scan renamed the file because its name was not valid UTF-8: the old name, with
    /// the bad bytes shown as U+FFFD.
    var renamedFrom: String? = nil
}

extension SpoolLayout {
    /// Lists every file under the inbox (sub-folders included), skipping ignored names.
    func scanInbox(below relativeFolder: String = "") -> [InboxCandidate] {
        var found: [InboxCandidate] = []
        scan(folder: relativeFolder, into: &found)
        return found
    }

    private func scan(folder: String, into found: inout [InboxCandidate]) {
        let path = folder.isEmpty ? inbox : inbox.appending(folder)
        guard let entries = try? Sys.list(path) else { return }
        for var entry in entries where !Self.isIgnored(name: entry.name) {
            var renamedFrom: String?
            if !entry.hasValidName {
                // Paths here are Swift strings: give the file a UTF-8 name (bad bytes become `_`) so it
                // is processed like any other, instead of staying in the inbox forever.
                let repaired = String(entry.name.map { $0 == "\u{FFFD}" ? "_" : $0 })
                var target = repaired
                var attempt = 1
                var renamed = false
                while !renamed && attempt < 1000 {
                    do {
                        try Sys.renameRaw(in: path, name: entry.rawName, to: path.appending(target))
                        renamed = true
                    } catch .fileExists {
                        // Taken (perhaps just now): never replace it, try the next name.
                        attempt += 1
                        target = "\(attempt)-\(repaired)"
                    } catch {
                        break
                    }
                }
                guard renamed else { continue }
                renamedFrom = folder.isEmpty ? entry.name : "\(folder)/\(entry.name)"
                entry.name = target
            }
            let relative = folder.isEmpty ? entry.name : "\(folder)/\(entry.name)"
            guard let st = try? Sys.lstat(inbox.appending(relative)) else {
                // Gone already. One this scan renamed may have been claimed at once through the
                // watch's event for the rename: it is still listed, so the rename is reported.
                if renamedFrom != nil { found.append(InboxCandidate(relativePath: relative, modified: 0, renamedFrom: renamedFrom)) }
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                scan(folder: relative, into: &found)
            } else {
                let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
                found.append(InboxCandidate(relativePath: relative, modified: modified, renamedFrom: renamedFrom))
            }
        }
    }

    /// Lists files (not folders) under `folder`, as paths relative to it; skips dot-names.
    static func files(under folder: FilePath, prefix: String = "") -> [String] {
        guard let entries = try? Sys.list(folder) else { return [] }
        var result: [String] = []
        for entry in entries where !entry.name.hasPrefix(".") {
            let relative = prefix.isEmpty ? entry.name : "\(prefix)/\(entry.name)"
            let path = folder.appending(entry.name)
            if Sys.isDirectory(path) {
                result += files(under: path, prefix: relative)
            } else {
                result.append(relative)
            }
        }
        return result
    }
}
