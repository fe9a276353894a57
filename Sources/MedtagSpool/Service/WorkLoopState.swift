/// A point in time, read by ``WorkLoop`` and handed to ``WorkLoopState``, which never reads a clock.
struct Moment: Equatable, Sendable {
    /// Monotonic seconds: retries, rescans and the shutdown deadline.
    var monotonic: Double
    /// Wall-clock seconds since the epoch: settling, which compares with file modification times.
    var wall: Double
}

/// What the daemon's work loop knows and decides, without doing any of it: no I/O, no clock, no
/// logging. ``handle(_:at:)`` takes an event and returns the actions for ``WorkLoop`` to carry out;
/// actions that have a result (a claim, a scan, a job, a reload) come back as events.
///
/// Each input is in one place, in one of two dictionaries:
/// - ``inbox``, keyed by the path in the inbox: files seen there and not yet claimed.
/// - ``work``, keyed by the name in this daemon's work folder: files claimed and not yet finished.
///
/// The two are separate because a claim renames `inbox/NAME` into `work/`, after which a new file
/// may be dropped as `inbox/NAME` while the first still runs: it is another input (claimed as
/// `NAME~2`, see ``WorkArea/claim(_:)``) and must be queued, not taken for the one in flight. The
/// inbox key says where to claim from; the work key (which may differ from it) names the job. A stale
/// listing that names a path already claimed queues it again too: its claim finds it `.vanished`.
///
/// Backpressure: at most ``Settings/workers`` inputs are claimed-and-running or being claimed at
/// once; the rest wait in the inbox.
struct WorkLoopState {
    /// The configuration values the loop itself uses; the rest of the configuration stays with
    /// ``WorkLoop``. (`settle_time` is applied by the claim, which reports `.settling(until:)`.)
    struct Settings: Equatable, Sendable {
        /// Inputs processed at once.
        var workers: Int
        /// Seconds before an input whose job asked for a retry is run again.
        var retryDelay: Double
        /// Seconds between scans of the whole inbox, counted from the end of the last one.
        var rescanInterval: Double
        /// Seconds that work in flight gets to finish once a shutdown starts.
        var shutdownGrace: Double
    }

    /// What the loop is doing besides its work: one value, so a reload and a shutdown cannot be half
    /// in force together.
    enum Phase: Equatable {
        /// Claiming and processing inputs.
        case serving
        /// Loading the configuration and the model again (SIGHUP) off the loop; work goes on meanwhile,
        /// new jobs included.
        case reloading
        /// A graceful shutdown: nothing new is claimed; work in flight has until `deadline`
        /// (monotonic seconds), then goes back to the inbox.
        case stopping(deadline: Double)
        /// Over: ``Action/stop`` was returned; every later event is ignored.
        case stopped
    }

    /// An inbox path the loop knows of.
    enum InboxState: Equatable {
        /// In line for a claim. `ready`: renamed into the inbox, complete by convention; otherwise
        /// the claim first checks that it is unchanged for `settle_time`.
        case queued(ready: Bool)
        /// Written in place and changed too recently: queued again from `until` (wall clock).
        case settling(until: Double)
        /// A ``Action/claim(path:ready:)`` is out and holds a worker until its result comes back.
        /// `seenAgain`: the `ready` flag of a sighting meanwhile (nil: none), which queues the path
        /// again once the claim is over (it may name a new file dropped after the rename).
        case claiming(seenAgain: Bool?)
    }

    /// A claimed input in this daemon's work folder.
    enum WorkState: Equatable {
        /// Claimed (left by an earlier run, taken over from a dead daemon, or due for a retry) and
        /// waiting for a free worker.
        case claimed
        /// Its job runs.
        case running
        /// Its job asked to be tried again at `at` (monotonic seconds).
        case retryDue(at: Double)
    }

    /// The scan of the whole inbox, which runs off the loop, one at a time.
    enum InboxScan: Equatable {
        case idle
        case running
        /// Asked for again while running (events were lost): another one follows it.
        case runningThenAgain
    }

    /// What the state machine is told.
    enum Event: Equatable {
        /// The loop begins: the backlog is scanned, and inputs already claimed start.
        case start
        /// The watcher saw a file closed after writing (`renamed` false) or renamed into the inbox.
        case seen(path: String, renamed: Bool)
        /// A folder appeared (its path), or the watcher lost events (nil: its queue overflowed, or
        /// the inbox was replaced): that folder, or the whole inbox, must be scanned.
        case rescanNeeded(folder: String?)
        /// A ``Action/scan(folder:)`` finished: the files it listed, and how long it took.
        case scanned(folder: String, paths: [String], seconds: Double)
        /// Inputs a ``Action/adoptAbandoned`` moved into this daemon's work folder.
        case adopted([String])
        /// The periodic tick (at least once a second).
        case tick
        /// What a ``Action/claim(path:ready:)`` did.
        case claimResult(path: String, ClaimResult)
        /// A job ended.
        case jobFinished(work: String, JobOutcome)
        /// SIGHUP.
        case reloadRequested
        /// A ``Action/startReload`` is over: the new values, or nil when the reload failed.
        case reloadFinished(Settings?)
        /// A graceful shutdown was asked for.
        case shutdownRequested
    }

    /// What a claim did with an inbox path (``WorkLoop/ClaimAttempt`` less the error, which is logged).
    enum ClaimResult: Equatable {
        /// Renamed into the work folder under this name.
        case claimed(as: String)
        /// Changed too recently: look again at `until` (wall clock).
        case settling(until: Double)
        /// No longer in the inbox.
        case vanished
        /// Left in the inbox for another reason; a later scan finds it again.
        case notClaimed
    }

    /// What ``WorkLoop`` is asked to do, in order.
    enum Action: Equatable {
        /// Scan the whole inbox (`""`, recreating it when missing) or one folder of it, off the loop;
        /// comes back as ``Event/scanned(folder:paths:seconds:)``.
        case scan(folder: String)
        /// Take over the inputs of daemons that died; comes back as ``Event/adopted(_:)``.
        case adoptAbandoned
        /// Claim an inbox path; comes back as ``Event/claimResult(path:_:)`` before the next event.
        case claim(path: String, ready: Bool)
        /// Run the job of a claimed input on a worker; comes back as ``Event/jobFinished(work:_:)``.
        case startJob(work: String)
        /// Append the finished job's record to the daily log and log its result.
        case recordResult(work: String)
        /// Tell systemd.
        case notify(Notification)
        /// Load the configuration and the model off the loop; comes back as ``Event/reloadFinished(_:)``.
        case startReload
        /// Put the reloaded configuration and model in force (the state uses `Settings` already).
        case applyReload(Settings)
        /// The reload failed: log it; the running configuration and model stay.
        case reloadFailed
        /// A reload finished during the shutdown: log that it is not applied.
        case reloadDiscarded
        /// Put these claimed inputs (work folder names) back in the inbox.
        case returnToInbox([String])
        /// Log a line about the loop.
        case log(Note)
        /// The loop is over: return from it.
        case stop
    }

    /// A systemd notification.
    enum Notification: Equatable {
        /// READY=1 (after a reload).
        case ready
        /// RELOADING=1.
        case reloading
        /// STOPPING=1.
        case stopping
        /// STATUS=…, the one-line status.
        case status(String)
    }

    /// A log line about the loop's own progress, with the values it shows.
    enum Note: Equatable {
        /// A scan of the whole inbox finished (`first`: the backlog scan at start).
        case inboxScanned(first: Bool, found: Int, seconds: Double, queued: Int)
        /// A graceful shutdown started.
        case stopping(working: Int, grace: Double)
        /// The grace period is over with work still running.
        case graceOver(working: Int)
    }

    private(set) var settings: Settings
    private(set) var phase = Phase.serving
    /// Inbox paths seen and not yet claimed, by path in the inbox.
    private(set) var inbox: [String: InboxState] = [:]
    /// Claimed inputs not yet finished, by name in the work folder.
    private(set) var work: [String: WorkState] = [:]
    private(set) var inboxScan = InboxScan.idle
    /// Scans of the whole inbox finished so far.
    private(set) var inboxScans = 0
    /// When the next periodic scan is due (monotonic seconds).
    private(set) var nextRescan: Double
    /// Inputs done, and failed.
    private(set) var processed = 0
    private(set) var failed = 0

    // Indexes over `inbox` and `work`, kept in step by `setInbox` and `setWork` alone: the order of
    // `.queued` and `.claimed` entries (first in, first out; an entry no longer in that state is
    // skipped), and how many entries are in each state.
    private var inboxLine: [String] = []
    private var inboxLineHead = 0
    private var workLine: [String] = []
    private var workLineHead = 0
    private var counts = Counts()

    private struct Counts: Equatable {
        var queued = 0, settling = 0, claiming = 0
        var claimed = 0, running = 0, retryDue = 0
    }

    /// - Parameter claimed: inputs already in the work folder (an earlier run's, or taken over); they
    ///   start, before anything from the inbox, once ``Event/start`` comes.
    init(settings: Settings, claimed: [String] = [], now: Moment) {
        self.settings = settings
        nextRescan = now.monotonic + settings.rescanInterval
        for name in claimed where work[name] == nil { setWork(name, .claimed) }
    }

    /// Inputs waiting: queued in the inbox, settling there, or claimed and waiting for a worker.
    var queuedCount: Int { counts.queued + counts.settling + counts.claimed }
    /// Jobs running.
    var workingCount: Int { counts.running }

    private var isStopping: Bool {
        switch phase {
        case .stopping, .stopped: true
        case .serving, .reloading: false
        }
    }

    /// Takes in one event at `now`; returns what to do, in order.
    mutating func handle(_ event: Event, at now: Moment) -> [Action] {
        if phase == .stopped { return [] }
        var actions: [Action] = []
        switch event {
        case .start:
            requestScan("", &actions)
        case .seen(let path, let renamed):
            enqueue(path, ready: renamed)
        case .rescanNeeded(let folder):
            requestScan(folder ?? "", &actions)
        case .scanned(let folder, let paths, let seconds):
            scanned(folder: folder, paths: paths, seconds: seconds, now: now, &actions)
        case .adopted(let names):
            if isStopping {
                if !names.isEmpty { actions.append(.returnToInbox(names)) }
            } else {
                for name in names where work[name] == nil { setWork(name, .claimed) }
            }
        case .tick:
            tick(now, &actions)
        case .claimResult(let path, let result):
            claimed(path, result, &actions)
        case .jobFinished(let name, let outcome):
            finished(name, outcome, now: now, &actions)
        case .reloadRequested:
            if phase == .serving {
                phase = .reloading
                actions += [.notify(.reloading), .startReload]
            }
        case .reloadFinished(let new):
            if phase != .reloading {
                actions.append(.reloadDiscarded)
            } else {
                phase = .serving
                if let new {
                    settings = new
                    actions.append(.applyReload(new))
                } else {
                    actions.append(.reloadFailed)
                }
                actions.append(.notify(.ready))
            }
        case .shutdownRequested:
            beginShutdown(now, &actions)
        }
        if case .stopping(let deadline) = phase {
            if counts.running == 0 && counts.claiming == 0 {
                phase = .stopped
                actions.append(.stop)
            } else if now.monotonic >= deadline {
                // Claims are answered before the next event, so only running jobs are left here.
                let running = work.filter { $0.value == .running }.keys.sorted()
                actions.append(.log(.graceOver(working: running.count)))
                for name in running { setWork(name, nil) }
                actions += [.returnToInbox(running), .stop]
                phase = .stopped
            }
        } else {
            startWork(&actions)
        }
        return actions
    }

    // MARK: Inbox

    /// Queues an inbox path once, however many times it is seen; a sighting as renamed makes a queued
    /// or settling path ready.
    private mutating func enqueue(_ path: String, ready: Bool) {
        if SpoolLayout.isIgnored(relativePath: path) { return }
        switch inbox[path] {
        case nil:
            setInbox(path, .queued(ready: ready))
        case .queued(let wasReady):
            if ready && !wasReady { setInbox(path, .queued(ready: true)) }
        case .settling:
            // Not ready: already waiting to settle; the next check looks at its time again.
            if ready { setInbox(path, .queued(ready: true)) }
        case .claiming(let seenAgain):
            setInbox(path, .claiming(seenAgain: (seenAgain ?? false) || ready))
        }
    }

    private mutating func requestScan(_ folder: String, _ actions: inout [Action]) {
        // Nothing found now would be claimed.
        if isStopping { return }
        if folder.isEmpty {
            guard inboxScan == .idle else {
                inboxScan = .runningThenAgain
                return
            }
            inboxScan = .running
        }
        actions.append(.scan(folder: folder))
    }

    private mutating func scanned(folder: String, paths: [String], seconds: Double, now: Moment, _ actions: inout [Action]) {
        for path in paths { enqueue(path, ready: false) }
        guard folder.isEmpty else { return }
        let again = inboxScan == .runningThenAgain
        inboxScan = .idle
        inboxScans += 1
        actions.append(.log(.inboxScanned(first: inboxScans == 1, found: paths.count, seconds: seconds, queued: queuedCount)))
        if again {
            requestScan("", &actions)
        } else {
            // Counted from the end of the scan: when a scan takes longer than the interval (a large
            // backlog in the inbox), the next one must not start at once, or scanning never stops.
            nextRescan = now.monotonic + max(settings.rescanInterval, 1)
        }
    }

    private mutating func tick(_ now: Moment, _ actions: inout [Action]) {
        if now.monotonic >= nextRescan, inboxScan == .idle, !isStopping {
            requestScan("", &actions)
            // Inputs of a daemon or `medtag ingest` that died (their lock is free) are taken over
            // here too, not only at start-up.
            actions.append(.adoptAbandoned)
        }
        if counts.retryDue > 0 {
            let due = work.compactMap { name, state -> (at: Double, name: String)? in
                if case .retryDue(let at) = state, at <= now.monotonic { return (at, name) }
                return nil
            }
            for retry in due.sorted(by: { ($0.at, $0.name) < ($1.at, $1.name) }) { setWork(retry.name, .claimed) }
        }
        if counts.settling > 0 {
            let due = inbox.compactMap { path, state -> (until: Double, path: String)? in
                if case .settling(let until) = state, until <= now.wall { return (until, path) }
                return nil
            }
            for settled in due.sorted(by: { ($0.until, $0.path) < ($1.until, $1.path) }) {
                setInbox(settled.path, .queued(ready: false))
            }
        }
    }

    // MARK: Work

    /// Hands work to free workers: claimed inputs first, then claims from the inbox line. A claim out
    /// holds a worker until its result comes back.
    private mutating func startWork(_ actions: inout [Action]) {
        while counts.running + counts.claiming < settings.workers {
            if let name = popWorkLine() {
                setWork(name, .running)
                actions.append(.startJob(work: name))
            } else if let next = popInboxLine() {
                setInbox(next.path, .claiming(seenAgain: nil))
                actions.append(.claim(path: next.path, ready: next.ready))
            } else {
                return
            }
        }
    }

    private mutating func claimed(_ path: String, _ result: ClaimResult, _ actions: inout [Action]) {
        guard case .claiming(let seenAgain) = inbox[path] else { return }
        // Seen again during the claim: perhaps a new file under the same name, dropped after the
        // rename. Queued again; a claim of a stale sighting finds it `.vanished`.
        let next: InboxState? = seenAgain.map { .queued(ready: $0) }
        switch result {
        case .claimed(let name):
            setInbox(path, next)
            if isStopping {
                actions.append(.returnToInbox([name]))
            } else {
                // The worker the claim held is this job's.
                setWork(name, .running)
                actions.append(.startJob(work: name))
            }
        case .settling(let until):
            setInbox(path, seenAgain == true ? .queued(ready: true) : .settling(until: until))
        case .vanished, .notClaimed:
            setInbox(path, next)
        }
    }

    private mutating func finished(_ name: String, _ outcome: JobOutcome, now: Moment, _ actions: inout [Action]) {
        actions.append(.recordResult(work: name))
        switch outcome {
        case .done:
            processed += 1
            setWork(name, nil)
        case .failed:
            failed += 1
            setWork(name, nil)
        case .retry:
            // During a shutdown it stays in the work folder, for the next start or another daemon.
            setWork(name, isStopping ? nil : .retryDue(at: now.monotonic + settings.retryDelay))
        }
        actions.append(
            .notify(.status("processed \(processed), failed \(failed), queued \(queuedCount), working \(counts.running)")))
    }

    // MARK: Shutdown

    private mutating func beginShutdown(_ now: Moment, _ actions: inout [Action]) {
        guard !isStopping else { return }
        phase = .stopping(deadline: now.monotonic + settings.shutdownGrace)
        actions += [.notify(.stopping), .log(.stopping(working: counts.running, grace: settings.shutdownGrace))]
        // Claimed but not started: straight back to the inbox, in line order, then the retries.
        var back: [String] = []
        while let name = popWorkLine() { back.append(name) }
        let retries = work.compactMap { name, state -> (at: Double, name: String)? in
            if case .retryDue(let at) = state { return (at, name) }
            return nil
        }
        back += retries.sorted { ($0.at, $0.name) < ($1.at, $1.name) }.map(\.name)
        for name in back { setWork(name, nil) }
        if !back.isEmpty { actions.append(.returnToInbox(back)) }
    }

    // MARK: Bookkeeping

    /// Sets (nil: removes) an inbox entry, keeping the line and the counts in step.
    private mutating func setInbox(_ path: String, _ new: InboxState?) {
        let old = if let new { inbox.updateValue(new, forKey: path) } else { inbox.removeValue(forKey: path) }
        if let old { count(old, -1) }
        if let new { count(new, 1) }
        if case .queued = new {
            if case .queued = old {} else { inboxLine.append(path) }
        }
    }

    /// Sets (nil: removes) a work entry, keeping the line and the counts in step.
    private mutating func setWork(_ name: String, _ new: WorkState?) {
        let old = if let new { work.updateValue(new, forKey: name) } else { work.removeValue(forKey: name) }
        if let old { count(old, -1) }
        if let new { count(new, 1) }
        if new == .claimed && old != .claimed { workLine.append(name) }
    }

    private mutating func count(_ state: InboxState, _ delta: Int) {
        switch state {
        case .queued: counts.queued += delta
        case .settling: counts.settling += delta
        case .claiming: counts.claiming += delta
        }
    }

    private mutating func count(_ state: WorkState, _ delta: Int) {
        switch state {
        case .claimed: counts.claimed += delta
        case .running: counts.running += delta
        case .retryDue: counts.retryDue += delta
        }
    }

    /// The next queued inbox path, taken off the line (its state is the caller's to change).
    private mutating func popInboxLine() -> (path: String, ready: Bool)? {
        while inboxLineHead < inboxLine.count {
            let path = inboxLine[inboxLineHead]
            inboxLineHead += 1
            if inboxLineHead > 4096, inboxLineHead * 2 > inboxLine.count {
                inboxLine.removeFirst(inboxLineHead)
                inboxLineHead = 0
            }
            if case .queued(let ready) = inbox[path] { return (path, ready) }
        }
        return nil
    }

    /// The next claimed input waiting for a worker, taken off the line (its state is the caller's to change).
    private mutating func popWorkLine() -> String? {
        while workLineHead < workLine.count {
            let name = workLine[workLineHead]
            workLineHead += 1
            if workLineHead == workLine.count {
                workLine.removeAll(keepingCapacity: true)
                workLineHead = 0
            }
            if work[name] == .claimed { return name }
        }
        return nil
    }

    /// Where the indexes disagree with the dictionaries (empty when they agree): for tests.
    func inconsistencies() -> [String] {
        var problems: [String] = []
        var expected = Counts()
        for state in inbox.values {
            switch state {
            case .queued: expected.queued += 1
            case .settling: expected.settling += 1
            case .claiming: expected.claiming += 1
            }
        }
        for state in work.values {
            switch state {
            case .claimed: expected.claimed += 1
            case .running: expected.running += 1
            case .retryDue: expected.retryDue += 1
            }
        }
        if expected != counts { problems.append("counts \(counts), expected \(expected)") }
        let line = inboxLine[inboxLineHead...].filter { if case .queued = inbox[$0] { true } else { false } }
        if line.count != counts.queued || Set(line).count != line.count {
            problems.append("inbox line \(line) for \(counts.queued) queued")
        }
        let waiting = workLine[workLineHead...].filter { work[$0] == .claimed }
        if waiting.count != counts.claimed || Set(waiting).count != waiting.count {
            problems.append("work line \(waiting) for \(counts.claimed) claimed")
        }
        return problems
    }
}
