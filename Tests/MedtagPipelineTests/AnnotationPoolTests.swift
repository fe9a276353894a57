import Foundation
import MedtagPipeline
import Testing

/// One pool per process: however many inputs use it at once, at most `workers` items run together,
/// on at most `workers` threads, and each input gets its results back in its own order.
struct AnnotationPoolTests {
    /// Counts items running at once and the largest such count.
    final class Gauge: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private(set) var most = 0
        private(set) var mostThreads = 0

        func enter(threads: Int = 0) {
            lock.lock()
            running += 1
            most = max(most, running)
            mostThreads = max(mostThreads, threads)
            lock.unlock()
        }

        func leave() {
            lock.lock()
            running -= 1
            lock.unlock()
        }
    }

    @Test("three inputs sharing a pool of 2 never run more than 2 items at once, and each gets its order back")
    func sharedLimit() throws {
        let pool = AnnotationPool(workers: 2)
        let gauge = Gauge()
        let inputs = 3
        let results = NSLock()
        nonisolated(unsafe) var delivered = [[Int]](repeating: [], count: inputs)
        DispatchQueue.concurrentPerform(iterations: inputs) { input in
            let workers = OrderedWorkers<Int>(pool: pool)
            var mine: [Int] = []
            for k in 0..<40 {
                workers.submit({
                    gauge.enter(threads: pool.threadCount)
                    usleep(UInt32(200 + (k * 7919 % 5) * 300))  // the work itself, of uneven lengths
                    gauge.leave()
                    return k
                }, deliver: { mine.append($0) })
            }
            workers.finish { mine.append($0) }
            results.lock()
            delivered[input] = mine
            results.unlock()
        }
        #expect(gauge.most == 2)
        #expect(gauge.mostThreads >= 1 && gauge.mostThreads <= 2, "threads alive at once")
        for input in 0..<inputs { #expect(delivered[input] == Array(0..<40)) }
    }

    @Test("a turn taken on the caller's thread counts against the same workers")
    func turnsCount() throws {
        let pool = AnnotationPool(workers: 1)
        let gauge = Gauge()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<10 {
                pool.withTurn {
                    gauge.enter()
                    usleep(300)  // the work itself
                    gauge.leave()
                }
            }
        }
        #expect(gauge.most == 1)
    }

    @Test("after cancel, results not delivered are dropped and new items come back in order")
    func cancelThenReuse() throws {
        let workers = OrderedWorkers<Int>(pool: AnnotationPool(workers: 3))
        var got: [Int] = []
        // Work that takes a while, so some is still queued when it is cancelled.
        for k in 0..<6 { workers.submit({ usleep(2_000); return k }, deliver: { got.append($0) }) }
        workers.cancel()
        got = []
        for k in 100..<110 { workers.submit({ k }, deliver: { got.append($0) }) }
        workers.finish { got.append($0) }
        #expect(got == Array(100..<110))
    }
}
