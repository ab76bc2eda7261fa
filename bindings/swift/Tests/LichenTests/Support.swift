// Shared helpers for the Swift binding tests: temp dirs, bounded waits, listeners that apply
// the diffs to a list as a UI would, and an executor of one thread that shows whether a call
// ever holds its caller's thread.
import Foundation
import Lichen
import XCTest

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `check` every 50 ms until it gives a value, or throws after `timeout` seconds.
func waitFor<T>(
    _ what: String, timeout: Double = 30, _ check: () async throws -> T?
) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let got = try await check() { return got }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    throw TimedOut(what: what)
}

/// Waits until `check` is true.
func waitUntil(_ what: String, timeout: Double = 30, _ check: () async throws -> Bool)
    async throws
{
    _ = try await waitFor(what, timeout: timeout) { try await check() ? true : nil }
}

/// A fresh directory under the system temp dir, removed by `cleanup`.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lichen-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

func create(_ dir: String) async throws -> Lichen {
    try await LichenBuilder(dataDir: dir).create()
}

/// What a diff stream did to a list, and every diff it carried, in order.
final class Applied<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Item] = []
    private(set) var kinds: [String] = []
    private var sets: [(UInt32, Item)] = []
    private var resetCount = 0

    func apply(kind: String, _ change: (inout [Item]) -> (UInt32, Item)?) {
        lock.lock()
        defer { lock.unlock() }
        kinds.append(kind)
        if kind == "reset" { resetCount += 1 }
        if let set = change(&items) { sets.append(set) }
    }

    var snapshot: [Item] { lock.lock(); defer { lock.unlock() }; return items }
    var resets: Int { lock.lock(); defer { lock.unlock() }; return resetCount }
    var setUpdates: [(UInt32, Item)] { lock.lock(); defer { lock.unlock() }; return sets }
    var diffKinds: [String] { lock.lock(); defer { lock.unlock() }; return kinds }
}

/// A chat-list listener that keeps the list.
final class ListRecorder: ChatListListener, @unchecked Sendable {
    let list = Applied<ChatListItem>()

    func onUpdate(diffs: [ChatListDiff]) throws {
        for d in diffs {
            switch d {
            case .reset(let values):
                list.apply(kind: "reset") { $0 = values; return nil }
            case .insert(let index, let value):
                list.apply(kind: "insert") { $0.insert(value, at: Int(index)); return nil }
            case .set(let index, let value):
                list.apply(kind: "set") { $0[Int(index)] = value; return (index, value) }
            case .remove(let index):
                list.apply(kind: "remove") { $0.remove(at: Int(index)); return nil }
            }
        }
    }
}

/// A timeline listener that keeps the timeline.
final class TimelineRecorder: TimelineListener, @unchecked Sendable {
    let timeline = Applied<ChatMessage>()

    func onUpdate(diffs: [TimelineDiff]) throws {
        for d in diffs {
            switch d {
            case .reset(let values):
                timeline.apply(kind: "reset") { $0 = values; return nil }
            case .insert(let index, let value):
                timeline.apply(kind: "insert") { $0.insert(value, at: Int(index)); return nil }
            case .set(let index, let value):
                timeline.apply(kind: "set") { $0[Int(index)] = value; return (index, value) }
            case .remove(let index):
                timeline.apply(kind: "remove") { $0.remove(at: Int(index)); return nil }
            case .pushFront(let values):
                timeline.apply(kind: "pushFront") { $0.insert(contentsOf: values, at: 0); return nil }
            case .append(let values):
                timeline.apply(kind: "append") { $0.append(contentsOf: values); return nil }
            }
        }
    }
}

/// A task executor of exactly one thread. Tasks that prefer it run every nonisolated async
/// function on that thread, the generated bindings' polls of Rust futures included, and it
/// times each job it runs: the longest is how long any call held its caller's thread (a
/// figure that, unlike the gaps between ticks, does not grow when the machine is busy and
/// the thread waits to be scheduled).
final class OneThread: TaskExecutor, @unchecked Sendable {
    private let cond = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    private var longest = 0.0
    private var count = 0

    /// The longest a job ran, in seconds, and how many jobs ran.
    var longestJob: Double { cond.lock(); defer { cond.unlock() }; return longest }
    var jobsRun: Int { cond.lock(); defer { cond.unlock() }; return count }

    init() {
        let t = Thread { [unowned self] in self.loop() }
        t.name = "lichen-test-one-thread"
        t.start()
    }

    func enqueue(_ job: UnownedJob) {
        cond.lock()
        jobs.append(job)
        cond.signal()
        cond.unlock()
    }

    func stop() {
        cond.lock()
        stopped = true
        cond.signal()
        cond.unlock()
    }

    private func loop() {
        while true {
            cond.lock()
            while jobs.isEmpty && !stopped { cond.wait() }
            if jobs.isEmpty && stopped {
                cond.unlock()
                return
            }
            let job = jobs.removeFirst()
            cond.unlock()
            let start = monotonic()
            job.runSynchronously(on: asUnownedTaskExecutor())
            let took = monotonic() - start
            cond.lock()
            longest = max(longest, took)
            count += 1
            cond.unlock()
        }
    }
}

/// Ticks every 10 ms on the executor it is started under and keeps the gaps between ticks:
/// it shows the thread stayed free for other work while the calls were under way.
final class Ticker: @unchecked Sendable {
    private let lock = NSLock()
    private var gaps: [Double] = []
    private var done = false

    func run() async {
        var last = monotonic()
        while !isDone() {
            try? await Task.sleep(nanoseconds: 10_000_000)
            let now = monotonic()
            record(now - last)
            last = now
        }
    }

    private func isDone() -> Bool { lock.lock(); defer { lock.unlock() }; return done }
    private func record(_ gap: Double) { lock.lock(); gaps.append(gap); lock.unlock() }

    func finish() { lock.lock(); done = true; lock.unlock() }

    var ticks: Int { lock.lock(); defer { lock.unlock() }; return gaps.count }
    var longest: Double { lock.lock(); defer { lock.unlock() }; return gaps.max() ?? 0 }
}

/// Seconds on a clock that only goes forward.
func monotonic() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Seconds as milliseconds, for the log.
func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

/// Seconds a synchronous call took.
func timed<T>(_ call: () throws -> T) rethrows -> (T, Double) {
    let start = monotonic()
    let got = try call()
    return (got, monotonic() - start)
}
