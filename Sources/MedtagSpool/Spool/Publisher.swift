#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Makes results visible in one step, and moves inputs so that a crash never loses them.
enum Publisher {
    /// Flushes every file and folder of `staged`, then renames it to `target` (replacing an older
    /// result in one atomic exchange), and flushes the folder holding `target`.
    ///
    /// A reader of `outbox/` sees either no result, the old one, or the complete new one.
    static func publish(staged: FilePath, to target: FilePath, outbox: FilePath) throws(SpoolError) {
        func fail(_ reason: String, _ errno: Errno) -> SpoolError {
            SpoolError(stage: .publish, path: target.string, reason: reason, errno: errno)
        }
        do { try syncTree(staged) } catch { throw fail("cannot flush the results to disk", error) }
        let parent = target.removingLastComponent()
        do {
            for created in try Sys.mkdirs(parent) {
                try Sys.fsync(created.removingLastComponent(), directory: true)
            }
        } catch { throw fail("cannot create the outbox folder", error) }
        do {
            if Sys.exists(target) {
                try replace(target, with: staged)
            } else {
                do {
                    try Sys.renameNoReplace(staged, target)
                } catch .fileExists {
                    try replace(target, with: staged)
                }
            }
            try Sys.fsync(parent, directory: true)
        } catch { throw fail("cannot publish the results", error) }
    }

    /// Swaps in a new result for an old one; the old one ends in the staging path and is removed.
    private static func replace(_ target: FilePath, with staged: FilePath) throws(Errno) {
        do {
            try Sys.exchange(staged, target)
        } catch .notSupported, .invalidArgument {
            // No RENAME_EXCHANGE here: move the old result aside first (briefly no result, never half a one).
            let aside = FilePath(staged.string + ".old")
            try Sys.removeTree(aside)
            try Sys.rename(target, aside)
            try Sys.rename(staged, target)
            try Sys.removeTree(aside)
            return
        }
        try Sys.removeTree(staged)
    }

    /// Flushes all files and folders below `path` to disk, then each folder, deepest first, then
    /// `path` itself. The files of an input with many (an archive) are flushed together, in one
    /// `syncfs(2)` of the file system holding them; a few are flushed one by one, which costs less
    /// than flushing what others wrote to the same file system.
    static func syncTree(_ path: FilePath) throws(Errno) {
        var files: [FilePath] = []
        var folders: [FilePath] = []
        try collect(path, files: &files, folders: &folders)
        if files.count > Sys.filesFlushedOneByOne {
            try Sys.syncFileSystem(path)
        } else {
            for file in files { try Sys.fsync(file, directory: false) }
        }
        for folder in folders { try Sys.fsync(folder, directory: true) }
    }

    /// The files below `path`, and its folders deepest first (`path` last).
    private static func collect(_ path: FilePath, files: inout [FilePath], folders: inout [FilePath]) throws(Errno) {
        for entry in try Sys.list(path) {
            let child = path.appending(entry.name)
            if entry.kind == .directory {
                try collect(child, files: &files, folders: &folders)
            } else {
                files.append(child)
            }
        }
        folders.append(path)
    }

    /// Renames a file into another folder (creating it), replacing a file of the same name, and
    /// flushes both folders.
    static func moveDurably(_ source: FilePath, to target: FilePath) throws(Errno) {
        let parent = target.removingLastComponent()
        for created in try Sys.mkdirs(parent) {
            try Sys.fsync(created.removingLastComponent(), directory: true)
        }
        if Sys.isDirectory(target) { try Sys.removeTree(target) }
        try Sys.rename(source, target)
        try Sys.fsync(parent, directory: true)
        try Sys.fsync(source.removingLastComponent(), directory: true)
    }
}
