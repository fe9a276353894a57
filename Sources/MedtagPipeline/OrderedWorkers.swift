import Dispatch
import Foundation

/// Runs work items on several threads and hands their results back in the order they were
/// submitted, on the submitting thread.
///
/// At most `window` items are queued or running at once: ``submit(_:deliver:)`` waits (handing back
/// what is ready meanwhile) until one is delivered, so memory stays bounded however many items come.
/// An item starts as soon as a worker is free; nothing waits for a batch to fill. With one worker
/// the items run on the submitting thread, one after the other.
public final class OrderedWorkers<Output: Sendable>: @unchecked Sendable {
    /// Threads running items at once.
    public let workers: Int
    /// Items submitted but not yet delivered, at most.
    public let window: Int
    private let condition = NSCondition()
    private var pending: [(index: Int, work: @Sendable () -> Output)] = []
    private var ready: [Int: Output] = [:]
    private var running = 0
    private var submitted = 0
    private var delivered = 0

    /// - Parameters:
    ///   - workers: threads (1 runs every item on the caller's thread).
    ///   - window: items in flight at most (at least `workers`; default twice the workers).
    public init(workers: Int, window: Int? = nil) {
        self.workers = max(1, workers)
        self.window = max(self.workers, window ?? 2 * self.workers)
    }

    /// Queues `work`, then calls `deliver` with every result that is next in order and ready;
    /// waits while the window is full.
    public func submit<E: Error>(_ work: @escaping @Sendable () -> Output, deliver: (Output) throws(E) -> Void) throws(E) {
        if workers == 1 {
            try deliver(work())
            return
        }
        condition.lock()
        let index = submitted
        submitted += 1
        pending.append((index, work))
        if running < workers {
            running += 1
            DispatchQueue.global().async { self.runPending() }
        }
        condition.unlock()
        try deliverReady(waitingWhile: { $0.submitted - $0.delivered >= $0.window }, deliver)
    }

    /// Waits for every submitted item and delivers the rest of the results in order.
    public func finish<E: Error>(deliver: (Output) throws(E) -> Void) throws(E) {
        try deliverReady(waitingWhile: { $0.delivered < $0.submitted }, deliver)
    }

    /// Drops the items not started yet (after a failure, when their results are not wanted).
    public func cancel() {
        condition.lock()
        submitted -= pending.count
        pending.removeAll()
        condition.unlock()
    }

    private func deliverReady<E: Error>(
        waitingWhile mustWait: (OrderedWorkers) -> Bool, _ deliver: (Output) throws(E) -> Void
    ) throws(E) {
        while true {
            condition.lock()
            while ready[delivered] == nil, mustWait(self) { condition.wait() }
            guard let output = ready.removeValue(forKey: delivered) else {
                condition.unlock()
                return
            }
            delivered += 1
            condition.unlock()
            try deliver(output)
        }
    }

    /// A worker: runs queued items, oldest first, until none is left.
    private func runPending() {
        while true {
            condition.lock()
            guard !pending.isEmpty else {
                running -= 1
                condition.unlock()
                return
            }
            let (index, work) = pending.removeFirst()
            condition.unlock()
            let output = work()
            condition.lock()
            ready[index] = output
            condition.broadcast()
            condition.unlock()
        }
    }
}
