import Testing

@testable import MedtagSpool

/// The work loop's decisions, event by event, without a daemon, a spool or a clock.
@Suite("work loop state machine")
struct WorkLoopStateTests {
    typealias State = WorkLoopState
    typealias Action = WorkLoopState.Action

    static let settings = State.Settings(workers: 2, retryDelay: 30, rescanInterval: 60, shutdownGrace: 20)

    /// A state machine with a clock of its own: `advance` moves both clocks on.
    struct Loop {
        var state: State
        var now = Moment(monotonic: 1000, wall: 1_700_000_000)

        init(settings: State.Settings = WorkLoopStateTests.settings, claimed: [String] = []) {
            state = State(settings: settings, claimed: claimed, now: now)
        }

        mutating func advance(_ seconds: Double) {
            now.monotonic += seconds
            now.wall += seconds
        }

        /// Handles `event` now, and checks that the indexes stay in step with the dictionaries.
        @discardableResult
        mutating func send(_ event: State.Event, sourceLocation: SourceLocation = #_sourceLocation) -> [Action] {
            let actions = state.handle(event, at: now)
            #expect(state.inconsistencies() == [], sourceLocation: sourceLocation)
            return actions
        }

        /// Starts the loop and answers its backlog scan with `paths`.
        mutating func started(with paths: [String] = []) -> [Action] {
            #expect(send(.start) == [.scan(folder: "")])
            return send(.scanned(folder: "", paths: paths, seconds: 0.5))
        }
    }

    static func claims(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .claim(let path, _) = $0 { path } else { nil } }
    }

    static func jobs(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .startJob(let name) = $0 { name } else { nil } }
    }

    @Test("a file is claimed only when a worker is free; a finished job frees its worker for the next")
    func backpressure() {
        var loop = Loop()
        let actions = loop.started(with: ["a.txt", "b.txt", "c.txt"])
        #expect(
            actions == [
                .log(.inboxScanned(first: true, found: 3, seconds: 0.5, queued: 3)),
                .claim(path: "a.txt", ready: false), .claim(path: "b.txt", ready: false),
            ])
        #expect(loop.send(.claimResult(path: "a.txt", .claimed(as: "a.txt"))) == [.startJob(work: "a.txt")])
        #expect(loop.send(.claimResult(path: "b.txt", .claimed(as: "b.txt"))) == [.startJob(work: "b.txt")])
        #expect(loop.state.inbox == ["c.txt": .queued(ready: false)])
        #expect(loop.state.work == ["a.txt": .running, "b.txt": .running])
        // Nothing happens while both workers are busy, whatever arrives.
        #expect(loop.send(.seen(path: "d.txt", renamed: true)) == [])
        #expect(loop.send(.tick) == [])
        #expect(loop.state.queuedCount == 2)

        let finished = loop.send(.jobFinished(work: "a.txt", .done))
        #expect(
            finished == [
                .recordResult(work: "a.txt"), .notify(.status("processed 1, failed 0, queued 2, working 1")),
                .claim(path: "c.txt", ready: false),
            ])
        #expect(loop.state.work == ["b.txt": .running])
        #expect(loop.send(.jobFinished(work: "b.txt", .failed)).contains(.notify(.status("processed 1, failed 1, queued 1, working 0"))))
        #expect(loop.state.processed == 1 && loop.state.failed == 1)
    }

    @Test("a path seen by both the scan and an event is queued once; seen as renamed it becomes ready")
    func duplicatesQueuedOnce() throws {
        var loop = Loop(settings: .init(workers: 1, retryDelay: 30, rescanInterval: 60, shutdownGrace: 20))
        #expect(loop.send(.start) == [.scan(folder: "")])
        // One worker, busy with the first file: the rest wait.
        #expect(loop.send(.seen(path: "x.txt", renamed: false)) == [.claim(path: "x.txt", ready: false)])
        loop.send(.claimResult(path: "x.txt", .claimed(as: "x.txt")))
        loop.send(.seen(path: "a.txt", renamed: false))
        loop.send(.seen(path: "a.txt", renamed: true))
        loop.send(.scanned(folder: "", paths: ["a.txt", "b.txt", "x.txt", ".a.txt.part"], seconds: 0.1))
        loop.send(.seen(path: "b.txt", renamed: false))
        // x.txt from the stale listing: queued again, its claim will find it gone. Dot-names never.
        #expect(loop.state.inbox == ["a.txt": .queued(ready: true), "b.txt": .queued(ready: false), "x.txt": .queued(ready: false)])
        #expect(loop.state.queuedCount == 3)

        var claimed: [String] = []
        var finished = "x.txt"
        for _ in 0..<3 {
            let next = loop.send(.jobFinished(work: finished, .done))
            let path = try #require(Self.claims(next).first)
            claimed.append(path)
            if path == "x.txt" {
                #expect(loop.send(.claimResult(path: path, .vanished)) == [])
                continue
            }
            #expect(loop.send(.claimResult(path: path, .claimed(as: path))) == [.startJob(work: path)])
            finished = path
        }
        #expect(claimed == ["a.txt", "b.txt", "x.txt"], "one claim each, in the order first seen")
        #expect(loop.state.inbox.isEmpty)
    }

    @Test("a file written in place settles, then is claimed once its settle time has passed")
    func settling() {
        var loop = Loop()
        let until = loop.now.wall + 2
        #expect(Self.claims(loop.started(with: ["lento.txt"])) == ["lento.txt"])
        #expect(loop.send(.claimResult(path: "lento.txt", .settling(until: until))) == [])
        #expect(loop.state.inbox == ["lento.txt": .settling(until: until)])
        #expect(loop.state.queuedCount == 1)
        // Seen again meanwhile (closed after another write): it keeps waiting, no claim.
        #expect(loop.send(.seen(path: "lento.txt", renamed: false)) == [])
        loop.advance(1)
        #expect(loop.send(.tick) == [])
        loop.advance(1)
        #expect(loop.send(.tick) == [.claim(path: "lento.txt", ready: false)])
        #expect(loop.send(.claimResult(path: "lento.txt", .claimed(as: "lento.txt"))) == [.startJob(work: "lento.txt")])
    }

    @Test("a settling file renamed into place is claimed at once")
    func settlingThenRenamed() {
        var loop = Loop()
        _ = loop.started(with: ["nota.txt"])
        loop.send(.claimResult(path: "nota.txt", .settling(until: loop.now.wall + 60)))
        #expect(loop.send(.seen(path: "nota.txt", renamed: true)) == [.claim(path: "nota.txt", ready: true)])
    }

    @Test("a retry waits retry_delay, then runs again from the work folder; meanwhile its worker takes other work")
    func retry() {
        var loop = Loop(settings: .init(workers: 1, retryDelay: 30, rescanInterval: 600, shutdownGrace: 20))
        _ = loop.started(with: ["lleno.txt"])
        loop.send(.claimResult(path: "lleno.txt", .claimed(as: "lleno.txt")))
        let finished = loop.send(.jobFinished(work: "lleno.txt", .retry))
        #expect(finished == [.recordResult(work: "lleno.txt"), .notify(.status("processed 0, failed 0, queued 0, working 0"))])
        #expect(loop.state.work == ["lleno.txt": .retryDue(at: loop.now.monotonic + 30)])
        // Not counted as waiting, and not started before its time; the worker takes another input.
        #expect(loop.state.queuedCount == 0)
        #expect(loop.send(.seen(path: "otro.txt", renamed: true)) == [.claim(path: "otro.txt", ready: true)])
        loop.send(.claimResult(path: "otro.txt", .claimed(as: "otro.txt")))
        #expect(Self.jobs(loop.send(.jobFinished(work: "otro.txt", .done))) == [])
        loop.advance(29)
        #expect(loop.send(.tick) == [])
        loop.advance(1)
        #expect(loop.send(.tick) == [.startJob(work: "lleno.txt")], "started again without a claim: it is ours already")
        #expect(loop.state.work == ["lleno.txt": .running])
    }

    @Test("a retry that falls due while every worker is busy waits for one")
    func retryWaitsForWorker() {
        var loop = Loop(settings: .init(workers: 1, retryDelay: 30, rescanInterval: 600, shutdownGrace: 20))
        _ = loop.started(with: ["lleno.txt", "otro.txt"])
        loop.send(.claimResult(path: "lleno.txt", .claimed(as: "lleno.txt")))
        #expect(Self.claims(loop.send(.jobFinished(work: "lleno.txt", .retry))) == ["otro.txt"])
        loop.send(.claimResult(path: "otro.txt", .claimed(as: "otro.txt")))
        loop.advance(30)
        #expect(loop.send(.tick) == [])
        #expect(loop.state.work == ["lleno.txt": .claimed, "otro.txt": .running])
        #expect(loop.state.queuedCount == 1)
        #expect(Self.jobs(loop.send(.jobFinished(work: "otro.txt", .done))) == ["lleno.txt"])
    }

    @Test("a retry asked for during a shutdown is not scheduled; retries waiting go back to the inbox")
    func retryNotDuringShutdown() {
        var loop = Loop()
        _ = loop.started(with: ["a.txt", "b.txt"])
        loop.send(.claimResult(path: "a.txt", .claimed(as: "a.txt")))
        loop.send(.claimResult(path: "b.txt", .claimed(as: "b.txt")))
        loop.send(.jobFinished(work: "a.txt", .retry))
        let stopping = loop.send(.shutdownRequested)
        #expect(
            stopping == [
                .notify(.stopping), .log(.stopping(working: 1, grace: 20)), .returnToInbox(["a.txt"]),
            ])
        loop.advance(60)
        let last = loop.send(.jobFinished(work: "b.txt", .retry))
        #expect(last == [.recordResult(work: "b.txt"), .notify(.status("processed 0, failed 0, queued 0, working 0")), .stop])
        #expect(loop.state.work.isEmpty && loop.state.phase == .stopped)
    }

    @Test("reload: RELOADING, work goes on meanwhile, new workers apply on success; a failure keeps the old")
    func reload() {
        var loop = Loop(settings: .init(workers: 1, retryDelay: 30, rescanInterval: 60, shutdownGrace: 20))
        _ = loop.started(with: ["a.txt", "b.txt", "c.txt", "d.txt"])
        loop.send(.claimResult(path: "a.txt", .claimed(as: "a.txt")))
        #expect(loop.send(.reloadRequested) == [.notify(.reloading), .startReload])
        #expect(loop.state.phase == .reloading)
        #expect(loop.send(.reloadRequested) == [], "one reload at a time")
        // Work goes on while reloading, new jobs included.
        #expect(Self.claims(loop.send(.jobFinished(work: "a.txt", .done))) == ["b.txt"])
        #expect(loop.send(.claimResult(path: "b.txt", .claimed(as: "b.txt"))) == [.startJob(work: "b.txt")])

        let three = State.Settings(workers: 3, retryDelay: 5, rescanInterval: 60, shutdownGrace: 20)
        let applied = loop.send(.reloadFinished(three))
        #expect(applied == [.applyReload(three), .notify(.ready), .claim(path: "c.txt", ready: false), .claim(path: "d.txt", ready: false)])
        #expect(loop.state.phase == .serving && loop.state.settings == three)

        #expect(loop.send(.reloadRequested) == [.notify(.reloading), .startReload])
        #expect(loop.send(.reloadFinished(nil)) == [.reloadFailed, .notify(.ready)])
        #expect(loop.state.phase == .serving && loop.state.settings == three)
    }

    @Test("a reload that ends during a shutdown is not applied")
    func reloadDuringShutdown() {
        var loop = Loop()
        _ = loop.started(with: ["a.txt"])
        loop.send(.claimResult(path: "a.txt", .claimed(as: "a.txt")))
        loop.send(.reloadRequested)
        loop.send(.shutdownRequested)
        let new = State.Settings(workers: 8, retryDelay: 1, rescanInterval: 1, shutdownGrace: 1)
        #expect(loop.send(.reloadFinished(new)) == [.reloadDiscarded])
        #expect(loop.state.settings == Self.settings)
    }

    @Test("shutdown: nothing new is claimed; at the deadline running work goes back to the inbox, then the loop stops")
    func shutdownDeadline() {
        var loop = Loop(claimed: ["viejo-1.txt", "viejo-2.txt", "viejo-3.txt"])
        // Inputs already claimed start first, before anything from the inbox.
        #expect(loop.send(.start) == [.scan(folder: ""), .startJob(work: "viejo-1.txt"), .startJob(work: "viejo-2.txt")])
        #expect(loop.send(.scanned(folder: "", paths: ["a.txt"], seconds: 0)).count == 1, "only the scan's log line: no worker free")
        let stopping = loop.send(.shutdownRequested)
        #expect(
            stopping == [.notify(.stopping), .log(.stopping(working: 2, grace: 20)), .returnToInbox(["viejo-3.txt"])])
        #expect(loop.state.phase == .stopping(deadline: loop.now.monotonic + 20))
        #expect(loop.send(.shutdownRequested) == [])
        // A worker frees up: nothing new is claimed, from the inbox or anywhere.
        #expect(loop.send(.jobFinished(work: "viejo-1.txt", .done)) == [
            .recordResult(work: "viejo-1.txt"), .notify(.status("processed 1, failed 0, queued 1, working 1")),
        ])
        #expect(loop.send(.seen(path: "b.txt", renamed: true)) == [])
        #expect(loop.send(.rescanNeeded(folder: nil)) == [])
        loop.advance(19)
        #expect(loop.send(.tick) == [])
        loop.advance(1)
        #expect(loop.send(.tick) == [.log(.graceOver(working: 1)), .returnToInbox(["viejo-2.txt"]), .stop])
        #expect(loop.state.phase == .stopped && loop.state.work.isEmpty)
        #expect(loop.send(.jobFinished(work: "viejo-2.txt", .done)) == [], "a stopped loop does nothing more")
    }

    @Test("a shutdown with nothing in flight stops at once")
    func shutdownIdle() {
        var loop = Loop()
        _ = loop.started(with: [])
        #expect(loop.send(.shutdownRequested) == [.notify(.stopping), .log(.stopping(working: 0, grace: 20)), .stop])
        #expect(loop.state.phase == .stopped)
    }

    @Test("a lost-events rescan and the periodic one scan the whole inbox, one scan at a time")
    func rescans() {
        var loop = Loop()
        #expect(loop.send(.start) == [.scan(folder: "")])
        // Overflow during the backlog scan: another scan follows it, not alongside it.
        #expect(loop.send(.rescanNeeded(folder: nil)) == [])
        #expect(loop.state.inboxScan == .runningThenAgain)
        #expect(loop.send(.rescanNeeded(folder: "nueva")) == [.scan(folder: "nueva")], "a new folder is scanned at once")
        #expect(
            loop.send(.scanned(folder: "", paths: [], seconds: 2)) == [
                .log(.inboxScanned(first: true, found: 0, seconds: 2, queued: 0)), .scan(folder: ""),
            ])
        loop.advance(5)
        #expect(loop.send(.scanned(folder: "", paths: [], seconds: 2)) == [.log(.inboxScanned(first: false, found: 0, seconds: 2, queued: 0))])
        // The periodic scan is due rescan_interval after the end of the last one, with a look for
        // abandoned work folders.
        loop.advance(59)
        #expect(loop.send(.tick) == [])
        loop.advance(1)
        #expect(loop.send(.tick) == [.scan(folder: ""), .adoptAbandoned])
        #expect(loop.send(.rescanNeeded(folder: nil)) == [])
        #expect(loop.send(.adopted(["muerto.txt"])) == [.startJob(work: "muerto.txt")])
    }

    @Test("a file dropped under the name of one still running is queued and claimed as a new input")
    func sameNameWhileRunning() {
        var loop = Loop()
        _ = loop.started(with: ["nota.txt"])
        loop.send(.claimResult(path: "nota.txt", .claimed(as: "nota.txt")))
        #expect(loop.state.inbox.isEmpty && loop.state.work == ["nota.txt": .running])
        // A new nota.txt in the inbox while the first runs in work/nota.txt.
        #expect(loop.send(.seen(path: "nota.txt", renamed: true)) == [.claim(path: "nota.txt", ready: true)])
        #expect(loop.send(.claimResult(path: "nota.txt", .claimed(as: "nota~2.txt"))) == [.startJob(work: "nota~2.txt")])
        #expect(loop.state.work == ["nota.txt": .running, "nota~2.txt": .running])
        #expect(loop.send(.jobFinished(work: "nota.txt", .done)).contains(.recordResult(work: "nota.txt")))
        #expect(loop.state.work == ["nota~2.txt": .running])
    }

    @Test("a path seen again while its claim is out is queued again after it")
    func seenDuringClaim() {
        var loop = Loop(settings: .init(workers: 1, retryDelay: 30, rescanInterval: 60, shutdownGrace: 20))
        _ = loop.started(with: ["nota.txt"])
        #expect(loop.send(.seen(path: "nota.txt", renamed: true)) == [])
        #expect(loop.state.inbox == ["nota.txt": .claiming(seenAgain: true)])
        #expect(loop.send(.claimResult(path: "nota.txt", .claimed(as: "nota.txt"))) == [.startJob(work: "nota.txt")])
        #expect(loop.state.inbox == ["nota.txt": .queued(ready: true)])
        #expect(loop.send(.jobFinished(work: "nota.txt", .done)).last == .claim(path: "nota.txt", ready: true))
    }
}
