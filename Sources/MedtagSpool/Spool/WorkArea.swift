#if canImport(Glibc)
import Glibc
#endif
import Logging
import MedtagIngest
import SystemPackage

/// One daemon's claimed files: `work/<instance>/`, locked for as long as the daemon runs.
///
/// The lock is an exclusive `flock` on `work/<instance>/.lock`; the kernel drops it when the process
/// dies, however it dies. Another daemon (or this one, restarted) that can take the lock knows the
/// files in that folder were abandoned and processes them again.
public final class WorkArea: Sendable {
    public let layout: SpoolLayout
    /// The folder name under `work/` and `tmp/`.
    public let instance: String
    private let lockDescriptor: CInt

    /// Claimed files live here, under their path relative to the inbox.
    public var folder: FilePath { layout.work.appending(instance) }
    /// Results are written here before they are renamed into `outbox/`.
    public var staging: FilePath { layout.tmp.appending(instance) }

    private init(layout: SpoolLayout, instance: String, lockDescriptor: CInt) {
        self.layout = layout
        self.instance = instance
        self.lockDescriptor = lockDescriptor
    }

    deinit { _ = Glibc.close(lockDescriptor) }

    /// A name unique to this process: `<host>-<pid>`.
    public static func defaultInstanceName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let ok = buffer.withUnsafeMutableBytes { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                chars.baseAddress.map { gethostname($0, chars.count - 1) } ?? -1
            }
        } == 0
        let host = ok ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : "medtag"
        let safe = host.replacingSlashes
        return "\(safe.isEmpty ? "medtag" : safe)-\(getpid())"
    }

    /// Creates and locks `work/<instance>/`, and empties this instance's staging folder.
    public static func acquire(layout: SpoolLayout, instance: String) throws(SpoolError) -> WorkArea {
        let folder = layout.work.appending(instance)
        let lockPath = folder.appending(".lock")
        func fail(_ reason: String, _ errno: Errno? = nil, _ path: FilePath = folder) -> SpoolError {
            SpoolError(stage: .spool, path: path.string, reason: reason, errno: errno, disposition: .rejected)
        }
        var fd: CInt = -1
        if Sys.isDirectory(folder) {
            // A fixed instance name used again: the folder is ours if nobody holds its lock.
            do {
                fd = try Sys.open(lockPath, flags: O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o640)
            } catch { throw fail("cannot open the work lock", error, lockPath) }
            let locked: Bool
            do { locked = try Sys.tryLock(fd) } catch {
                _ = Glibc.close(fd)
                throw fail("cannot lock the work folder", error, lockPath)
            }
            guard locked else {
                _ = Glibc.close(fd)
                throw fail("another medtag daemon is running as instance `\(instance)`")
            }
        } else {
            // Build and lock the folder under a dot-name, then rename it into place, so nobody ever
            // sees an unlocked `work/<instance>/` that is in fact alive. Another daemon starting at
            // the same moment may take the dot-name folder for a dead one's and remove it (see
            // ``adoptAbandoned(logger:)``): then it is built again.
            let building = layout.work.appending(".\(instance).new")
            var attempt = 1
            while true {
                do {
                    fd = try build(building, into: folder, work: layout.work)
                    break
                } catch {
                    guard attempt < 3 else { throw fail("cannot create the work folder", error, building) }
                    attempt += 1
                }
            }
        }
        let area = WorkArea(layout: layout, instance: instance, lockDescriptor: fd)
        do {
            try Sys.removeTree(area.staging)
            try Sys.mkdirs(area.staging)
        } catch { throw fail("cannot prepare the staging folder", error, area.staging) }
        return area
    }

    /// Creates `building` holding a locked `.lock`, renames it to `folder` and returns the lock.
    private static func build(_ building: FilePath, into folder: FilePath, work: FilePath) throws(Errno) -> CInt {
        try Sys.removeTree(building)
        try Sys.mkdir(building)
        let fd = try Sys.open(building.appending(".lock"), flags: O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o640)
        do throws(Errno) {
            guard try Sys.tryLock(fd) else { throw Errno.resourceTemporarilyUnavailable }
            try Sys.rename(building, folder)
            try Sys.fsync(work, directory: true)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Whether `folder`, a work folder being built (`.<instance>.new`), was left by a daemon that
    /// died building it: its lock is free (a daemon building one holds it), or it has no lock file
    /// and is more than a minute old. The lock, when taken, is held until the folder is removed.
    private static func removeIfAbandoned(building folder: FilePath) {
        guard let fd = try? Sys.open(folder.appending(".lock"), flags: O_RDWR | O_CLOEXEC, mode: 0) else {
            if let st = try? Sys.lstat(folder), Double(st.st_mtim.tv_sec) < Clock.now - 60 { try? Sys.removeTree(folder) }
            return
        }
        defer { _ = Glibc.close(fd) }
        if (try? Sys.tryLock(fd)) == true { try? Sys.removeTree(folder) }
    }

    /// What became of a claim.
    enum ClaimOutcome: Equatable, Sendable {
        /// The file is now in this work folder, under `as` (relative to it): the name it was dropped
        /// under, or a numbered one (`nota~2.txt`) when results or an input of that name exist already.
        case claimed(as: String)
        /// The file was gone from the inbox (another daemon claimed it, or the user deleted or took it
        /// back between the event or scan that listed it and the claim): nothing to do.
        case vanished
    }

    /// Claims `inbox/<relativePath>` by renaming it into this work folder, under a name no other
    /// drop uses (see ``uniqueName(for:)``), so a name dropped again never replaces the results or
    /// the input of an earlier drop. A file that is no longer there is `.vanished`; the folders made
    /// for it in the work folder are removed again.
    func claim(_ relativePath: String) throws(Errno) -> ClaimOutcome {
        let target = folder.appending(relativePath)
        var parent = target
        parent.removeLastComponent()
        let created = try Sys.mkdirs(parent)
        do {
            return .claimed(as: try takeUnique(relativePath) { (path: FilePath) throws(Errno) in
                try Sys.renameNoReplace(layout.inbox.appending(relativePath), path)
            })
        } catch .noSuchFileOrDirectory, .notDirectory {
            // ENOTDIR: a folder on the way was replaced by a file; the input is gone all the same.
            for folder in created.reversed() { try? Sys.rmdir(folder) }
            return .vanished
        }
    }

    /// Logs, as a warning, that an input was taken under a numbered name because its own was seen before.
    static func noteRenamed(_ dropped: String, _ name: String, logger: Logger) {
        guard name != dropped else { return }
        logger.warning(
            "an input of this name was dropped before; this one is kept under a new name",
            metadata: ["medtag.file": "\(dropped)", "medtag.renamed": "\(name)"])
    }

    /// Moves (or copies) an input into this work folder with `move`, under the first name from
    /// ``uniqueName(for:)`` that `move` finds free; returns that name, relative to the work folder.
    func takeUnique(_ relativePath: String, _ move: (FilePath) throws(Errno) -> Void) throws(Errno) -> String {
        var start = 1
        while true {
            let (name, number) = unique(relativePath, from: start)
            do {
                try move(folder.appending(name))
                return name
            } catch .fileExists {
                // Taken in this work folder just now: try the next number.
                start = number + 1
            }
        }
    }

    /// The first of `relativePath`, `<name>~2<ext>`, `<name>~3<ext>` … (from the `start`th) that no
    /// drop uses: no results in `outbox/`, no input in `done/` or `failed/`, none claimed in `work/`
    /// by any daemon. The folders are looked at in the order a drop moves through them backwards
    /// (done/, failed/, outbox/, work/), so a drop in progress elsewhere is always seen.
    func uniqueName(for relativePath: String) -> String { unique(relativePath, from: 1).name }

    private func unique(_ relativePath: String, from start: Int) -> (name: String, number: Int) {
        let others = ((try? Sys.list(layout.work)) ?? []).map(\.name).filter { !$0.hasPrefix(".") }
        var number = start
        while true {
            let name = Self.numbered(relativePath, number)
            let taken =
                Sys.exists(layout.done.appending(name)) || Sys.exists(layout.failed.appending(name))
                || Sys.exists(layout.failed.appending(name + ".error.json")) || Sys.exists(layout.outbox.appending(name))
                || others.contains { Sys.exists(layout.work.appending($0).appending(name)) }
            if !taken { return (name, number) }
            number += 1
        }
    }

    /// `relativePath` with `~number` before its input extension (`ward3/nota.txt`, 2 →
    /// `ward3/nota~2.txt`; `lote.tar.gz` → `lote~2.tar.gz`); unchanged for 1.
    static func numbered(_ relativePath: String, _ number: Int) -> String {
        guard number > 1 else { return relativePath }
        let path = FilePath(relativePath)
        let name = path.lastComponent?.string ?? relativePath
        var base = InputKind.baseName(name)
        if base == name, let dot = name.lastIndex(of: "."), dot != name.startIndex { base = String(name[..<dot]) }
        let numbered = base + "~\(number)" + name.dropFirst(base.count)
        return path.removingLastComponent().appending(numbered).string
    }

    /// Whether `name` is `dropped` or one of its numbered names (``numbered(_:_:)``, up to `~999`).
    static func isNumbered(_ name: String, of dropped: String) -> Bool {
        name == dropped || (2...999).contains { numbered(dropped, $0) == name }
    }

    /// Files already in this work folder: left by a previous run of the same instance name.
    func leftovers() -> [String] {
        SpoolLayout.files(under: folder)
    }

    /// Takes over the files of daemons that are no longer running (their lock is free): they move into
    /// this work folder and are returned, to be processed again. Their staging folders are removed.
    func adoptAbandoned(logger: Logger) -> [String] {
        var adopted: [String] = []
        guard let entries = try? Sys.list(layout.work) else { return [] }
        for entry in entries where entry.kind == .directory || entry.kind == .unknown {
            let name = entry.name
            if name == instance { continue }
            let other = layout.work.appending(name)
            guard Sys.isDirectory(other) else { continue }
            if name.hasPrefix(".") {
                // Perhaps a daemon that died while creating its folder; nothing was ever claimed into it.
                WorkArea.removeIfAbandoned(building: other)
                continue
            }
            guard let fd = try? Sys.open(other.appending(".lock"), flags: O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o640)
            else { continue }
            defer { _ = Glibc.close(fd) }
            guard (try? Sys.tryLock(fd)) == true else { continue }  // alive
            for relative in SpoolLayout.files(under: other) {
                let source = other.appending(relative)
                let mine = folder.appending(relative)
                var parent = mine
                parent.removeLastComponent()
                do {
                    try Sys.mkdirs(parent)
                    try Sys.renameNoReplace(source, mine)
                    adopted.append(relative)
                    logger.info(
                        "taking over an abandoned file",
                        metadata: ["medtag.file": "\(relative)", "medtag.from": "\(name)"])
                } catch {
                    // Same name already claimed here: hand it back to the inbox instead.
                    returnToInbox(source, relative, logger: logger)
                }
            }
            if SpoolLayout.files(under: other).isEmpty {
                try? Sys.removeTree(layout.tmp.appending(name))
                try? Sys.removeTree(other)
            }
        }
        if !adopted.isEmpty { try? Sys.fsync(layout.work, directory: true) }
        // Staging folders of daemons that stopped (or died) with their work folder gone: never
        // published, safe to remove.
        for entry in (try? Sys.list(layout.tmp)) ?? [] where entry.name != instance {
            if !Sys.isDirectory(layout.work.appending(entry.name)) {
                try? Sys.removeTree(layout.tmp.appending(entry.name))
            }
        }
        return adopted
    }

    /// Puts a claimed file back in the inbox, unless a new file of the same name arrived meanwhile.
    func returnToInbox(_ relativePath: String, logger: Logger) {
        // A graceful return (shutdown, retry) is not an attempt cut short.
        Sys.clearAttempts(folder.appending(relativePath))
        returnToInbox(folder.appending(relativePath), relativePath, logger: logger)
    }

    private func returnToInbox(_ source: FilePath, _ relativePath: String, logger: Logger) {
        let target = layout.inbox.appending(relativePath)
        var parent = target
        parent.removeLastComponent()
        do {
            try Sys.mkdirs(parent)
            try Sys.renameNoReplace(source, target)
        } catch {
            logger.warning(
                "cannot return a file to the inbox; it stays claimed and is processed at the next start",
                metadata: ["medtag.file": "\(relativePath)", "medtag.error": "\(error)"])
        }
    }

    /// Removes the empty folders left in the work folder after files were moved out.
    func pruneEmptyFolders(below relativeFolder: String) {
        var relative = relativeFolder
        while !relative.isEmpty {
            do { try Sys.rmdir(folder.appending(relative)) } catch { return }
            if let slash = relative.lastIndex(of: "/") { relative = String(relative[..<slash]) } else { relative = "" }
        }
    }

    /// Called on a clean stop: the work folder goes away if nothing is left in it.
    func release() {
        if leftovers().isEmpty {
            try? Sys.removeTree(staging)
            try? Sys.removeTree(folder)
        }
    }
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "_" : $0 }) }
}

/// Wall-clock seconds since the epoch.
enum Clock {
    static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static var monotonic: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
