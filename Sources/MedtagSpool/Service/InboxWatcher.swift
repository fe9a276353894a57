import CInotifyTools
import Foundation
import Logging
import Synchronization
import SystemPackage

/// A hint from the inbox watcher. Hints only say where to look: the scan decides what is there.
enum WatchHint: Sendable {
    /// A file was closed after writing (`renamed` false) or renamed into the inbox (`renamed` true);
    /// the path is relative to the inbox.
    case file(String, renamed: Bool)
    /// A folder appeared (relative path), or, with nil, the kernel dropped events: scan everything.
    case rescan(String?)
}

/// Watches the inbox and its sub-folders with libinotifytools on a thread of its own.
///
/// libinotifytools keeps global state, so everything that touches it (adding watches, reading
/// events) happens on that one thread. Only one watcher may exist per process.
final class InboxWatcher: Sendable {
    private let inbox: FilePath
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let setupError = Mutex<SpoolError?>(nil)

    init(inbox: FilePath, logger: Logger) {
        self.inbox = inbox
        self.logger = logger
    }

    /// Sets the watches (recursively) and starts the event thread. Returns once the watches are in
    /// place, so a scan made afterwards cannot miss a file.
    func start(_ deliver: @escaping @Sendable (WatchHint) -> Void) throws(SpoolError) {
        let ready = DispatchSemaphore(value: 0)
        let inbox = self.inbox
        let thread = Thread { [self] in
            if inotifytools_initialize() == 0 {
                self.setupError.withLock {
                    $0 = SpoolError(
                        stage: .spool, path: inbox.string, reason: "cannot initialise inotify",
                        errno: Errno(rawValue: inotifytools_error()), disposition: .rejected)
                }
                ready.signal()
                return
            }
            if !Self.watch(inbox) {
                self.setupError.withLock {
                    $0 = SpoolError(
                        stage: .spool, path: inbox.string, reason: "cannot watch the inbox",
                        errno: Errno(rawValue: inotifytools_error()), disposition: .rejected)
                }
                inotifytools_cleanup()
                ready.signal()
                return
            }
            ready.signal()
            self.loop(deliver)
            inotifytools_cleanup()
        }
        thread.name = "medtag-inotify"
        thread.start()
        ready.wait()
        if let error = setupError.withLock({ $0 }) { throw error }
    }

    /// Asks the thread to stop; it notices within a second.
    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private static let mask = Int32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)

    private static func watch(_ folder: FilePath) -> Bool {
        folder.withPlatformString { inotifytools_watch_recursively($0, mask) } != 0
    }

    private func loop(_ deliver: @Sendable (WatchHint) -> Void) {
        let root = inbox.string.hasSuffix("/") ? inbox.string : inbox.string + "/"
        var inboxLost = false
        while !stopped.load(ordering: .relaxed) {
            if inboxLost, Sys.isDirectory(inbox), Self.watch(inbox) {
                // The inbox was removed or moved away and is back: watch the new one, scan it.
                inboxLost = false
                logger.notice("watching the recreated inbox", metadata: ["medtag.inbox": "\(inbox)"])
                deliver(.rescan(nil))
            }
            guard let event = inotifytools_next_event(1) else { continue }
            let mask = Int32(bitPattern: event.pointee.mask)
            if mask & Int32(IN_Q_OVERFLOW) != 0 {
                logger.warning("inotify queue overflowed; rescanning the inbox")
                deliver(.rescan(nil))
                continue
            }
            var namePointer: UnsafePointer<CChar>?
            var folderLength = 0
            guard let folder = inotifytools_filename_from_event(event, &namePointer, &folderLength) else { continue }
            let name = namePointer.map { String(cString: $0) } ?? ""
            var full = String(cString: folder)
            if !full.hasSuffix("/") { full += "/" }
            if name.isEmpty {
                if full == root, mask & Int32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0, !inboxLost {
                    logger.error("the inbox was removed or moved away; it will be recreated and watched again")
                    inotifytools_remove_watch_by_wd(event.pointee.wd)
                    inboxLost = true
                    deliver(.rescan(nil))  // the scan recreates the inbox
                }
                continue
            }
            full += name
            guard full.hasPrefix(root) else { continue }
            let relative = String(full.dropFirst(root.count))
            if SpoolLayout.isIgnored(relativePath: relative) { continue }
            if mask & Int32(IN_ISDIR) != 0 {
                if mask & Int32(IN_CREATE | IN_MOVED_TO) != 0 {
                    // Watch the new folder first, then scan it: files written before the watch was set
                    // are found by the scan, later ones by events.
                    _ = Self.watch(FilePath(full))
                    deliver(.rescan(relative))
                }
            } else if mask & Int32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                deliver(.file(relative, renamed: mask & Int32(IN_MOVED_TO) != 0))
            }
        }
    }
}
