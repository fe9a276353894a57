import Foundation

/// The threads that annotate documents, one pool per process, shared by every input and every
/// command: `workers = N` means at most N documents (or pieces) annotated at once, however many
/// inputs are open.
///
/// Work submitted with ``run(_:)`` runs on the pool's threads, oldest first, across all inputs;
/// work a caller must do on its own thread (a long text read piece by piece) takes a turn with
/// ``withTurn(_:)``. Both count against the same `workers`. A thread starts when work comes and
/// fewer than `workers` run, and ends after two idle seconds.
public final class AnnotationPool: @unchecked Sendable {
    /// Documents annotated at once, at most.
    public let workers: Int
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    /// Threads waiting for work.
    private var idle = 0
    /// Turns taken: pool threads running an item plus callers inside ``withTurn(_:)``.
    private var busy = 0

    /// - Parameter workers: documents annotated at once (at least 1).
    public init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Queues `work` to run on a pool thread when a turn is free.
    public func run(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        if threads < workers, idle == 0 {
            threads += 1
            Thread { [self] in
                // Shown by `top -H` and in /proc (15 characters at most).
                Thread.current.name = "medtag-annotate"
                loop()
            }.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body` on the caller's thread once a turn is free (waiting for one if all are taken).
    public func withTurn<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        condition.lock()
        while busy >= workers { condition.wait() }
        busy += 1
        condition.unlock()
        defer {
            condition.lock()
            busy -= 1
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }

    /// Threads the pool has started (for diagnostics and tests).
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    private func loop() {
        while true {
            condition.lock()
            // An idle thread waits a while for more work before it ends, so a steady flow of
            // documents keeps the same threads.
            let idleUntil = Date(timeIntervalSinceNow: 2)
            while head == queue.count || busy >= workers {
                idle += 1
                let signalled = condition.wait(until: idleUntil)
                idle -= 1
                if !signalled, head == queue.count {
                    threads -= 1
                    condition.unlock()
                    return
                }
            }
            let work = queue[head]
            head += 1
            if head > 256, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            busy += 1
            condition.unlock()
            work()
            condition.lock()
            busy -= 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
