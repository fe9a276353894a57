import Dispatch
import Foundation

/// Runs work items on an ``AnnotationPool``'s threads and hands their results back in the order
/// they were submitted, on the submitting thread.
///
/// At most `window` items are queued or running at once: ``submit(_:deliver:)`` waits (handing back
/// what is ready meanwhile) until one is delivered, so memory stays bounded however many items come.
/// An item starts as soon as the pool has a free turn; nothing waits for a batch to fill. With a
/// pool of one worker the items run on the submitting thread, one after the other.
public final class OrderedWorkers<Output: Sendable>: @unchecked Sendable {
    /// The threads the items run on, shared with every other user of the pool.
    public let pool: AnnotationPool
    /// Items submitted but not yet delivered, at most.
    public let window: Int
    private let condition = NSCondition()
    private var ready: [Int: Output] = [:]
    private var submitted = 0
    private var delivered = 0

    /// - Parameters:
    ///   - pool: the threads (a pool of 1 runs every item on the caller's thread).
    ///   - window: items in flight at most (at least the pool's workers; default twice them).
    public init(pool: AnnotationPool, window: Int? = nil) {
        self.pool = pool
        self.window = max(pool.workers, window ?? 2 * pool.workers)
    }

    /// Items run on a pool of their own with `workers` threads.
    public convenience init(workers: Int, window: Int? = nil) {
        self.init(pool: AnnotationPool(workers: workers), window: window)
    }

    /// Queues `work`, then calls `deliver` with every result that is next in order and ready;
    /// waits while the window is full.
    public func submit<E: Error>(_ work: @escaping @Sendable () -> Output, deliver: (Output) throws(E) -> Void) throws(E) {
        if pool.workers == 1 {
            try deliver(pool.withTurn { work() })
            return
        }
        condition.lock()
        let index = submitted
        submitted += 1
        condition.unlock()
        pool.run { [self] in
            condition.lock()
            let dropped = index < delivered  // cancelled before it started
            condition.unlock()
            guard !dropped else { return }
            let output = work()
            condition.lock()
            if index >= delivered { ready[index] = output }
            condition.broadcast()
            condition.unlock()
        }
        try deliverReady(waitingWhile: { $0.submitted - $0.delivered >= $0.window }, deliver)
    }

    /// Waits for every submitted item and delivers the rest of the results in order.
    public func finish<E: Error>(deliver: (Output) throws(E) -> Void) throws(E) {
        try deliverReady(waitingWhile: { $0.delivered < $0.submitted }, deliver)
    }

    /// Drops every result not delivered yet, and the items not started (after a failure, when
    /// their results are not wanted); items running finish, unheard.
    public func cancel() {
        condition.lock()
        delivered = submitted
        ready = [:]
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
}
